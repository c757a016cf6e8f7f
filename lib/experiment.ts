/** The experiment a run performs: what `feedpath run` takes, validated once at the edge. */
import { z } from 'zod';
import { parseStreamList } from './binance';
import { ErrorCode, FeedpathError } from './errors';
import { MAX_RECEIVERS, profileSchema, receiverNameSchema } from './profile';
import { describeIssues } from './zod-issues';
import { practicalInputFields } from './analysis/practical';

export const MODES = ['paired', 'baseline', 'backbone'] as const;
export type Mode = (typeof MODES)[number];

/** The longest local run `feedpath run` accepts (a day; the exchange drops connections at 24 h anyway). */
export const MAX_LOCAL_DURATION_S = 86_400;

/** Binance stream names, each checked (lib/binance), at least one; the reference stream by default. */
export const streamsSchema = z
  .array(z.string())
  .min(1)
  .default(['btcusdt@trade'])
  .superRefine((streams, ctx) => {
    try {
      parseStreamList(streams.join(','));
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: (error as Error).message });
    }
  });

export const localRunSchema = z
  .object({
    durationSeconds: z.number().positive().max(MAX_LOCAL_DURATION_S).default(30),
    streams: streamsSchema,
    mode: z.enum(MODES).default('paired'),
    /** Link delays; absent = the default Tokyo↔Frankfurt profile with the simulator, none with --exchange. */
    profile: profileSchema.optional(),
    /**
     * Several receivers (`--receivers`), each with its own links, one forwarder relaying to all;
     * absent = one receiver (or every receiver of a profile with a receivers section).
     */
    receivers: z
      .array(receiverNameSchema)
      .min(1)
      .max(MAX_RECEIVERS)
      .refine((names) => new Set(names).size === names.length, 'a receiver is named twice')
      .optional(),
    out: z.string().default('results'),
    /** An external exchange (ws:// or wss:// base URL) instead of the simulator. */
    exchange: z.string().url().optional(),
    /** A capture to replay through the simulator. */
    replay: z.string().optional(),
    /** Where the capture came from when it was downloaded first (`--replay s3://…`); run.json names it. */
    replaySource: z.string().optional(),
    speed: z.number().positive().max(10_000).default(1),
    label: z.string().max(100).optional(),
    seed: z.number().int().nonnegative().default(1),
    /**
     * The A/A control: the receiver's second direct connection to the exchange, recorded as
     * `control-results.csv` (modes paired and baseline; `--no-control` turns it off).
     */
    control: z.boolean().default(true),
    /**
     * Record the receiver's direct exchange connection as a capture, `capture/baseline.jsonl.gz` in
     * the run's folder (`--record`), which `--replay` plays back. Needs the baseline.
     */
    record: z.boolean().default(false),
    /**
     * Link emulators release early by the lab's measured loopback-hop cost (lib/loopback-hop.ts), so
     * a path's delay is the profile's; false (`--no-hop-compensation`) = they add their whole delay
     * on top of the hops (the raw lab).
     */
    hopCompensation: z.boolean().default(true),
    /** The practical-significance threshold (lib/analysis/practical.ts); absent = the analysis's default. */
    ...practicalInputFields,
  })
  .strict()
  .refine((o) => !(o.exchange !== undefined && o.replay !== undefined), {
    message: '--exchange and --replay cannot be used together (a replay runs through the simulator)',
  })
  .refine((o) => !(o.record && o.mode === 'backbone'), {
    message:
      "--record records the receiver's direct exchange connection: mode paired or baseline, not backbone",
  })
  .refine(
    (o) => {
      const known = o.profile?.receivers;
      return known === undefined || (o.receivers ?? []).every((name) => name in known);
    },
    { message: "every receiver must be in the profile's receivers section", path: ['receivers'] },
  );
export type LocalRunOptions = z.infer<typeof localRunSchema>;

/** Validates run options, naming the bad field. */
export function parseLocalRunOptions(value: unknown): LocalRunOptions {
  const result = localRunSchema.safeParse(value);
  if (!result.success) throw new FeedpathError(ErrorCode.badInput, describeIssues(result.error));
  return result.data;
}
