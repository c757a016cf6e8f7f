/**
 * run.json's `connections`: every connection the agents of a run opened, gathered from their
 * `metrics/<agent>.json` (lib/agent-files.ts, `connections`). `feedpath run` adds them when its
 * agents have stopped; the cloud's analysis step adds them to the run.json PrepareRun wrote, before
 * it analyses (so the report can read them from run.json in both places).
 */
import { agentMetricsSchema, type ConnectionRecord } from './agent-files';
import { receiverPrefix } from './run-file';
import { formatRunFile, RUN_FILE, runFileSchema } from './run-file';
import { readJsonWith, type ResultsStore } from './store/store';

/**
 * The connections in the agents' metrics under `base`, in the order they opened: the run folder's
 * own `metrics/` (a multi-receiver run's forwarder) and each named receiver's under
 * `receivers/<name>/` (where a multi-receiver run's receivers write theirs). A metrics file that
 * cannot be read or fails its schema adds nothing (the analysis warns about it already).
 */
export async function readConnections(
  store: ResultsStore,
  base: string,
  receivers: readonly string[] = [],
): Promise<ConnectionRecord[]> {
  const folders = [base, ...receivers.map((name) => `${base}${receiverPrefix(name)}`)];
  const found: ConnectionRecord[] = [];
  for (const folder of folders) {
    const keys = (await store.list(`${folder}metrics/`)).filter((key) => key.endsWith('.json'));
    for (const key of keys) {
      const metrics = await readJsonWith(store, key, agentMetricsSchema).catch(() => null);
      found.push(...(metrics?.connections ?? []));
    }
  }
  return found.sort((a, b) => a.opened_at.localeCompare(b.opened_at));
}

/**
 * Adds the agents' connections (the run folder's and the named receivers', as
 * {@link readConnections}) to the run.json under `base`, rewritten through its schema. False when
 * there is nothing to add to: no run.json, one that is not a run file, or no connections.
 */
export async function addConnectionsToRunFile(
  store: ResultsStore,
  base: string,
  receivers: readonly string[] = [],
): Promise<boolean> {
  const run = await readJsonWith(store, `${base}${RUN_FILE}`, runFileSchema);
  if (run === null) return false;
  const connections = await readConnections(store, base, receivers);
  if (connections.length === 0) return false;
  await store.write(`${base}${RUN_FILE}`, formatRunFile({ ...run, connections }), 'application/json');
  return true;
}
