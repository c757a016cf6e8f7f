/**
 * Where a run's sites are: each site's AZ ID, zone name, region and instance type, added to
 * run.json once the site stacks are complete, so the report and the history say which physical
 * zones were measured (and a schedule that sweeps zones can be compared zone by zone). Written by
 * ProvisionDescribeSites rather than the analysis, so that a run that fails later still says where
 * it ran.
 */
import { checkRunFile, formatRunFile, RUN_FILE, type RunFile, type SitePlacement } from '../run-file';
import { readText, type ResultsStore } from '../store';
import type { RunPlan, SiteRole } from './run';

export interface PlacedSite extends SitePlacement {
  role: SiteRole;
}

/** Adds the sites' placement to the run's run.json (the plan PrepareRun wrote; kept as it is). */
export async function recordPlacement(
  store: ResultsStore,
  run: RunPlan,
  sites: readonly PlacedSite[],
): Promise<void> {
  const key = `${run.prefix}${RUN_FILE}`;
  const text = await readText(store, key);
  // run.json is PrepareRun's; should it be gone or damaged, the plan itself is what it held.
  const stored: RunFile | null = text === null ? null : safeRunFile(text);
  const placement: NonNullable<RunFile['placement']> = {};
  for (const { role, ...site } of sites) placement[role] = site;
  await store.write(key, formatRunFile({ ...(stored ?? run), placement }), 'application/json');
}

function safeRunFile(text: string): RunFile | null {
  try {
    return checkRunFile(JSON.parse(text)).run;
  } catch {
    return null;
  }
}
