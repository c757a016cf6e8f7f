/**
 * A failed receiver region in a multi-receiver run (`regionFailure`): with `fail` its error ends the
 * run, as any site's does; with `continue` the region is dropped — left out of every later step,
 * its stacks deleted by TeardownRun with the rest — as long as another receiver still stands. The
 * forwarder, the only receiver, or the last standing receiver failing always fails the run.
 */
import type { RunPlan, SitePlan } from './run';

/** A receiver region left out of the run, and why. */
export interface DroppedReceiver {
  region: string;
  cause: string;
}

/** A site whose stack failed, with the error its failure raises (StackFailedError). */
export interface SiteFailure {
  site: SitePlan;
  error: Error;
}

/** The receivers to drop for these failures; throws the first failure the run cannot survive. */
export function droppedReceivers(run: RunPlan, failures: readonly SiteFailure[]): DroppedReceiver[] {
  if (failures.length === 0) return [];
  const tolerated = run.receivers !== undefined && run.input.regionFailure === 'continue';
  const fatal = failures.find(({ site }) => !tolerated || site.role !== 'receiver');
  if (fatal !== undefined) throw fatal.error;
  const receivers = run.sites.filter((site) => site.role === 'receiver').length;
  if (failures.length >= receivers) {
    throw (failures[0] as SiteFailure).error;
  }
  return failures.map(({ site, error }) => ({ region: site.region, cause: error.message }));
}
