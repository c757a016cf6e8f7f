/**
 * `run.json`: how a run went — one schema for the part that writes it (`feedpath run`, and the
 * cloud's PrepareRun, which writes the run plan) and every part that reads it (the analysis, the
 * history). Readers are lenient: a file from an older version (status in the workflow's upper case,
 * no causes) or from the cloud (a run plan, no status yet) still reads.
 */
import { z } from 'zod';
import { connectionRecordSchema } from './agent-files';
import { labHopsSchema } from './loopback-hop';

/**
 * How a run ended (DESIGN.md "A run says how it ended"): `degraded` = it ran to its end but a path
 * went silent, an agent or a link died, or data was lost; `failed` = it did not produce a
 * measurement; `interrupted` = the user stopped it (what was recorded is kept).
 */
export const RUN_STATUSES = ['succeeded', 'degraded', 'failed', 'interrupted'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * `feedpath run`'s exit code per status. 2 is taken by usage errors (commander's convention), 130 is
 * what a shell reports for a command stopped by Ctrl-C (128 + SIGINT), so scripts treat it alike.
 * 3 is every run that ended with a report a script must not take as a clean result: degraded, or a
 * run that went well but gathered too little data for a verdict (`insufficient`).
 */
export const EXIT_CODES: Record<RunStatus | 'usage' | 'insufficient', number> = {
  succeeded: 0,
  failed: 1,
  usage: 2,
  degraded: 3,
  insufficient: 3,
  interrupted: 130,
};

/** One reason a run is not `succeeded`: what happened, when (ISO time, null when not one instant), and how. */
export const runCauseSchema = z.object({
  /** What broke, as a user would name it: `link exchange-receiver`, `backbone path`, `forwarder`. */
  what: z.string().min(1),
  at: z.string().nullable(),
  detail: z.string(),
});
export type RunCause = z.infer<typeof runCauseSchema>;

/** The workflow's statuses (upper case, as Step Functions names them) mapped to a run status. */
const WORKFLOW_STATUS: Record<string, RunStatus> = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  TIMED_OUT: 'failed',
  ABORTED: 'interrupted',
};

/**
 * Where one site of a cloud run ran, by AZ ID: names (`eu-central-1a`) map to different physical
 * zones in each account, IDs (`euc1-az2`) do not, so comparisons across accounts go by ID.
 */
const sitePlacementSchema = z
  .object({
    region: z.string().min(1),
    availabilityZoneId: z.string().min(1),
    /** This account's name for the zone; null when the stack did not say. */
    availabilityZoneName: z.string().nullable(),
    instanceType: z.string().min(1),
  })
  .loose();
export type SitePlacement = z.infer<typeof sitePlacementSchema>;

const statusSchema = z.preprocess(
  (value) => (typeof value === 'string' ? (WORKFLOW_STATUS[value] ?? value) : value),
  z.enum(RUN_STATUSES),
);

export const runFileSchema = z
  .object({
    runId: z.string().min(1),
    /** `local` for `feedpath run`; absent in the cloud's run plan. */
    where: z.string().optional(),
    host: z.string().optional(),
    startedAt: z.string().optional(),
    endedAt: z.string().nullable().optional(),
    /** Local runs: duration | replay-finished | interrupted (null when the measurement never ended). */
    endedBy: z.string().nullable().optional(),
    /** Absent until the run has an outcome (the cloud's plan, a run still going). */
    status: statusSchema.optional(),
    causes: z.array(runCauseSchema).default([]),
    workflow: z
      .object({ lastState: z.string(), error: z.string().nullable(), cause: z.string().nullable() })
      .optional(),
    mode: z.string().optional(),
    streams: z.array(z.string()).optional(),
    regions: z.object({ forwarder: z.string(), receiver: z.string() }).partial().optional(),
    /**
     * Cloud runs: each site's zone and instance type, added by ProvisionDescribeSites once the
     * stacks are complete (the plan's own `sites` list is what teardown reads, left as it is).
     */
    placement: z
      .object({
        receiver: sitePlacementSchema,
        forwarder: sitePlacementSchema,
        /** Multi-receiver runs: each receiver's placement by its name (`receiver` is the first's). */
        receivers: z.record(z.string(), sitePlacementSchema),
      })
      .partial()
      .optional(),
    /**
     * Multi-receiver runs: each receiver by name (its files are under `receivers/<name>/`) and
     * region; `dropped` says why a receiver was left out (`regionFailure: "continue"`). Absent with
     * one receiver, whose files are at the run's prefix.
     */
    receivers: z
      .array(
        z
          .object({ name: z.string().min(1), region: z.string().min(1), dropped: z.string().optional() })
          .loose(),
      )
      .optional(),
    /**
     * Every exchange and relay connection the agents opened, from their `metrics/<agent>.json`
     * (lib/run-connections.ts): which server each path reached, when, and why it closed. Absent in
     * older files.
     */
    connections: z.array(connectionRecordSchema).optional(),
    /** Local runs: the link profile; the replay's file, speed and what it sent. */
    profile: z.unknown().optional(),
    /** Local runs with link emulators: the loopback hop measured and the links' compensation for it. */
    lab: labHopsSchema.optional(),
    replay: z.unknown().optional(),
    versions: z.record(z.string(), z.string()).optional(),
  })
  // The cloud's run plan and future versions add keys; readers keep them.
  .loose();
export type RunFile = z.infer<typeof runFileSchema>;

/** Where each receiver's files are under the run's prefix (DESIGN.md "Results"). */
export const RECEIVERS_DIR = 'receivers';

/** `receivers/<name>/`: one receiver's folder under the run's prefix. */
export function receiverPrefix(name: string): string {
  return `${RECEIVERS_DIR}/${name}/`;
}

export const RUN_FILE = 'run.json';

/** A parsed run.json value through the schema: the run, or null with the first problem. */
export function checkRunFile(value: unknown): { run: RunFile | null; problem?: string } {
  const parsed = runFileSchema.safeParse(value);
  if (parsed.success) return { run: parsed.data };
  const issue = parsed.error.issues[0];
  return {
    run: null,
    problem: `not a run file (${issue?.path.join('.') || 'root'}: ${issue?.message ?? 'invalid'})`,
  };
}

/** run.json's text for a run, validated against the schema (a writer bug fails here, not in a reader). */
export function formatRunFile(run: z.input<typeof runFileSchema>): string {
  return `${JSON.stringify(runFileSchema.parse(run), null, 2)}\n`;
}

/** The status a set of causes gives a run that otherwise ended as `ended`. */
export function statusWith(ended: RunStatus, causes: readonly RunCause[]): RunStatus {
  return ended === 'succeeded' && causes.length > 0 ? 'degraded' : ended;
}

/** Causes of both lists, each (what + detail) once, in order. */
export function mergeCauses(...lists: readonly (readonly RunCause[])[]): RunCause[] {
  const seen = new Set<string>();
  const out: RunCause[] = [];
  for (const cause of lists.flat()) {
    const key = `${cause.what}\u0000${cause.detail}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(cause);
  }
  return out;
}
