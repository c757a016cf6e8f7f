/**
 * What the analysis learns about the hosts from the files beside the samples: each agent's resource
 * summary (`metrics/<agent>.json`) and each host's clock error bound — from the chrony readings of
 * the cloud run script (`clock/<role>.json`) or, where there are none, from the agent's own metrics.
 * Both files are read with the schema their writers use (lib/agent-files.ts).
 */
import { agentMetricsSchema, clockFileSchema, worstBoundMs } from '../agent-files';
import type { AgentResources, ClockBound, HostName } from '../report';
import { readJsonWith, type ResultsStore } from '../store';

export const HOSTS: readonly HostName[] = ['receiver', 'forwarder'];

/** The clock error bound per host as a caller knows it (null: known to be unknown). */
export type GivenClockBounds = Partial<Record<HostName, number | null>>;

export interface HostFiles {
  resources: AgentResources[];
  /** Per host, the bound each source gave, ms (absent: that source has nothing for the host). */
  bounds: Record<HostName, { clockFile?: number | null; metrics?: { agent: string; bound: number | null } }>;
}

/** Reads `metrics/*.json` and `clock/*.json` under `base`; a file that fails its schema is a warning. */
export async function readHostFiles(
  store: ResultsStore,
  base: string,
  warnings: string[],
): Promise<HostFiles> {
  const files: HostFiles = { resources: [], bounds: { receiver: {}, forwarder: {} } };
  const metricsKeys = (await store.list(`${base}metrics/`)).filter((key) => key.endsWith('.json'));
  for (const key of metricsKeys) {
    const metrics = await readJsonWith(store, key, agentMetricsSchema, {
      what: "an agent's metrics",
      onProblem: (problem) => warnings.push(`${problem}: ignored`),
    });
    if (metrics === null) continue;
    files.resources.push(metrics);
    const host = HOSTS.find((h) => metrics.agent === h || metrics.agent.startsWith(h));
    if (host !== undefined && files.bounds[host].metrics === undefined) {
      const { start, end } = metrics.clock_error_bound_ms;
      files.bounds[host].metrics = { agent: metrics.agent, bound: worstBoundMs(start, end) };
    }
  }
  for (const host of HOSTS) {
    const clock = await readJsonWith(store, `${base}clock/${host}.json`, clockFileSchema, {
      what: "a host's chrony readings",
      onProblem: (problem) => warnings.push(`${problem}: ignored`),
    });
    if (clock !== null)
      files.bounds[host].clockFile = worstBoundMs(clock.start?.errorBoundMs, clock.end?.errorBoundMs);
  }
  return files;
}

/**
 * Each host's bound and where it came from: what the caller gives first, then the host's chrony
 * readings around the agent (the cloud run script), then what the agent measured itself.
 */
export function clockBounds(files: HostFiles, given: GivenClockBounds = {}): Record<HostName, ClockBound> {
  const bound = (host: HostName): ClockBound => {
    const fromCaller = given[host];
    if (fromCaller !== undefined) {
      return {
        error_bound_ms: fromCaller,
        source: fromCaller === null ? 'not known' : 'given to the analysis',
      };
    }
    const { clockFile, metrics } = files.bounds[host];
    if (clockFile !== undefined && clockFile !== null)
      return { error_bound_ms: clockFile, source: `clock/${host}.json` };
    if (metrics !== undefined && metrics.bound !== null)
      return { error_bound_ms: metrics.bound, source: `metrics/${metrics.agent}.json` };
    const reported = clockFile !== undefined || metrics !== undefined;
    return { error_bound_ms: null, source: reported ? 'chrony not available on the host' : 'not reported' };
  };
  return { receiver: bound('receiver'), forwarder: bound('forwarder') };
}

/**
 * One receiver's host files (its folder of a multi-receiver run) completed with the run's own (the
 * forwarder's, at the run prefix): each host's bounds come from the receiver's folder when it has
 * any, else from the run prefix; the resources of both, each agent once.
 */
export function withRunHosts(receiver: HostFiles, run: HostFiles): HostFiles {
  const has = (b: HostFiles['bounds'][HostName]) => b.clockFile !== undefined || b.metrics !== undefined;
  const agents = new Set(receiver.resources.map((r) => r.agent));
  return {
    resources: [...receiver.resources, ...run.resources.filter((r) => !agents.has(r.agent))],
    bounds: {
      receiver: has(receiver.bounds.receiver) ? receiver.bounds.receiver : run.bounds.receiver,
      forwarder: has(receiver.bounds.forwarder) ? receiver.bounds.forwarder : run.bounds.forwarder,
    },
  };
}
