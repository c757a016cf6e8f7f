/**
 * Where a run's sites are: each site's AZ ID, zone name, region and instance type, added to
 * run.json once the site stacks are complete, so the report and the history say which physical
 * zones were measured (and a schedule that sweeps zones can be compared zone by zone). Written by
 * ProvisionDescribeSites rather than the analysis, so that a run that fails later still says where
 * it ran.
 */
import {
  formatRunFile,
  mergeCauses,
  RUN_FILE,
  runFileSchema,
  type RunFile,
  type SitePlacement,
} from '../run-file';
import { readJsonWith, type ResultsStore } from '../store';
import type { DroppedReceiver } from './regions';
import type { RunPlan, SiteRole } from './run';

export interface PlacedSite extends SitePlacement {
  role: SiteRole;
}

/** Adds the sites' placement to the run's run.json (the plan PrepareRun wrote; kept as it is). */
export async function recordPlacement(
  store: ResultsStore,
  run: RunPlan,
  sites: readonly PlacedSite[],
  dropped: readonly DroppedReceiver[] = [],
): Promise<void> {
  const key = `${run.prefix}${RUN_FILE}`;
  // run.json is PrepareRun's; should it be gone or damaged, the plan itself is what it held.
  const stored = await readJsonWith(store, key, runFileSchema);
  const placement: NonNullable<RunFile['placement']> = {};
  // The first receiver's placement is `receiver` (what a one-receiver reader looks for).
  for (const { role, ...site } of [...sites].reverse()) placement[role] = site;
  const extra: Partial<RunFile> = {};
  if (run.receivers !== undefined) {
    placement.receivers = Object.fromEntries(
      sites.filter((s) => s.role === 'receiver').map(({ role: _role, ...site }) => [site.region, site]),
    );
    // The plan's receivers as they were (a teardown-only execution reads its peerings back).
    extra.receivers = run.receivers.map((receiver) => {
      const drop = dropped.find((d) => d.region === receiver.region);
      return { ...receiver, ...(drop !== undefined ? { dropped: drop.cause } : {}) };
    });
    const at = new Date().toISOString();
    extra.causes = mergeCauses(
      stored?.causes ?? [],
      dropped.map((d) => ({ what: `receiver ${d.region}`, at, detail: `region dropped: ${d.cause}` })),
    );
  }
  await store.write(key, formatRunFile({ ...(stored ?? run), placement, ...extra }), 'application/json');
}
