/**
 * The files an agent host writes beside the samples and the analysis reads: `metrics/<agent>.json`
 * (the agent's resource summary, lib/resources.ts) and `clock/<role>.json` (the chrony readings the
 * cloud run script takes before and after the agent, lib/cloud/agents.ts). One schema each, used by
 * the writer (or, for the shell-written clock file, by the test that runs the real script) and by
 * the reader, so that a change on one side cannot silently blind the other.
 */
import { z } from 'zod';

/** A clock error bound, ms; null where chrony was not available. */
const boundMs = z.number().finite().nonnegative().nullable();

/** The connections an agent keeps: to the exchange (one per feed it records) and the relay's. */
export const CONNECTION_FEEDS = ['baseline', 'control', 'backbone', 'relay'] as const;
export type ConnectionFeed = (typeof CONNECTION_FEEDS)[number];

/** One end of a TCP connection as the agent's socket saw it (the resolved IP, not the host name). */
const endpointSchema = z.object({ address: z.string(), port: z.number().int().min(0).max(65_535) });

/**
 * One connection an agent opened (exchange feeds, the forwarder's relay links) or accepted (the
 * receiver's relay). `ordinal` numbers an agent's connections of one feed from 1 in the order they
 * opened; the sample CSVs' `connection` column carries it (a backbone row: the forwarder's upstream
 * exchange connection's). Agents write these in `metrics/<agent>.json` (`connections`); run.json
 * lists them all.
 */
export const connectionRecordSchema = z.object({
  agent: z.string().min(1),
  feed: z.enum(CONNECTION_FEEDS),
  ordinal: z.number().int().min(1),
  /** The URL dialled (an accepted relay: the URL the forwarder asked for). */
  url: z.string(),
  /** null when the socket had already gone when it was asked. */
  remote: endpointSchema.nullable(),
  local: endpointSchema.nullable(),
  /** ISO times with ms; closed_at and close_reason stay null while the connection is open. */
  opened_at: z.string().min(1),
  closed_at: z.string().nullable(),
  close_reason: z.string().nullable(),
});
export type ConnectionRecord = z.infer<typeof connectionRecordSchema>;

/** `metrics/<agent>.json`. Extra keys an agent adds (its `done` details) are kept. */
export const agentMetricsSchema = z
  .object({
    agent: z.string().min(1),
    duration_s: z.number().nonnegative(),
    samples: z.number().int().nonnegative(),
    avg_cpu_pct: z.number().nullable(),
    max_cpu_pct: z.number().nullable(),
    avg_rss_mb: z.number().nullable(),
    max_rss_mb: z.number().nullable(),
    avg_msgs_per_s: z.number().nullable(),
    max_msgs_per_s: z.number().nullable(),
    total_msgs: z.number().nonnegative(),
    counters: z.record(
      z.string(),
      z.object({
        total: z.number().nonnegative(),
        avg_msgs_per_s: z.number().nullable(),
        max_msgs_per_s: z.number().nullable(),
      }),
    ),
    /** The host clock's error bound from chrony, ms, when the agent started and when it stopped. */
    clock_error_bound_ms: z.object({ start: boundMs, end: boundMs }),
    files: z.object({ csv: z.string(), json: z.string() }),
    /** Every connection the agent opened or accepted, in opening order (absent in older files). */
    connections: z.array(connectionRecordSchema).optional(),
  })
  .loose();

export type AgentMetrics = z.infer<typeof agentMetricsSchema>;

/** One `chronyc -c tracking` reading as the run script records it. */
const trackingSchema = z.object({
  at: z.string(),
  offsetSeconds: z.number(),
  rootDelaySeconds: z.number(),
  rootDispersionSeconds: z.number(),
  errorBoundMs: z.number().finite().nonnegative(),
});

/** `clock/<role>.json`: the host's chrony readings around the agent (null where chrony said nothing). */
export const clockFileSchema = z.object({
  role: z.string().min(1),
  host: z.string(),
  start: trackingSchema.nullable(),
  end: trackingSchema.nullable(),
});

export type ClockFile = z.infer<typeof clockFileSchema>;

/**
 * The bound to quote for a host: the larger of its start and end readings (the error could have been
 * either during the run); null when neither is known.
 */
export function worstBoundMs(
  start: number | null | undefined,
  end: number | null | undefined,
): number | null {
  const known = [start, end].filter((b): b is number => typeof b === 'number' && Number.isFinite(b));
  return known.length > 0 ? Math.max(...known) : null;
}
