/**
 * Where a cloud run's sites ran (run.json `placement`, lib/cloud/placement.ts): region, zone by AZ
 * ID (the same physical zone in every account) and by this account's name, and instance type. A
 * local run has no placement, and the report shows no table for it.
 */
import { runFileSchema, type SitePlacement } from '../run-file';
import type { Report } from './model';
import type { Table } from './tables';

/** The sites' table; null when run.json records no placement (local runs, older cloud runs). */
export function sitesTable(report: Pick<Report, 'metadata'>): Table | null {
  const parsed = runFileSchema.shape.placement.safeParse(report.metadata.run?.placement);
  const placement = parsed.success ? parsed.data : undefined;
  if (placement === undefined) return null;
  const rows = (['receiver', 'forwarder'] as const).flatMap((role) => {
    const site: SitePlacement | undefined = placement[role];
    if (site === undefined) return [];
    return [
      [role, site.region, site.availabilityZoneId, site.availabilityZoneName ?? '–', site.instanceType],
    ];
  });
  return rows.length === 0 ? null : { head: ['site', 'region', 'AZ ID', 'AZ name', 'instance type'], rows };
}
