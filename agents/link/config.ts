/** The link emulator's configuration: validated once, at the edge; the type comes from the schema. */
import { z } from 'zod';
import { linkSpecSchema } from '../../lib/profile';
import { progressIntervalSchema } from '../common/agent-kit';

/** Above this many queued bytes in one direction the link stops reading from that direction's source. */
export const DEFAULT_HIGH_WATER_MARK_BYTES = 16 * 1024 * 1024;

const noDelay = { delayMs: 0, jitterMs: 0 };

export const linkConfigSchema = z
  .object({
    /** Which link this emulates, e.g. `exchange-receiver`; it labels every report line. */
    name: z.string().min(1).default('link'),
    /** Where the link listens for clients. */
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 = any free port (reported in `ready`). */
    port: z.number().int().min(0).max(65_535).default(0),
    /** Where each accepted connection is relayed to. */
    target: z
      .object({
        host: z.string().min(1).default('127.0.0.1'),
        port: z.number().int().min(1).max(65_535),
      })
      .strict(),
    /** Client → target. */
    forward: linkSpecSchema.default(noDelay),
    /** Target → client. */
    reverse: linkSpecSchema.default(noDelay),
    /**
     * Releases each chunk this much earlier than its drawn delay, never before it was read (applied
     * delay = max(0, drawn − compensation)), ms: a local run's measured cost of the two loopback
     * hops the link sits between (lib/loopback-hop.ts), so a path's end-to-end delay is the
     * profile's. 0 = the link adds its drawn delay on top of whatever the hops cost.
     */
    compensationMs: z.number().min(0).max(1_000).default(0),
    /**
     * Seeds the jitter draws, so a run with the same seed draws the same extras per connection
     * (the experiment's seed is passed as is; only its low 32 bits matter).
     */
    seed: z.number().int().nonnegative().default(1),
    /** Per direction: pause reading above this many queued bytes, resume below half of it. */
    highWaterMarkBytes: z.number().int().min(1).default(DEFAULT_HIGH_WATER_MARK_BYTES),
    /**
     * Where to record what the link applied to each chunk (lib/lab-truth.ts), e.g. a local run's
     * `lab/<name>.csv`; no record when absent.
     */
    truthFile: z.string().min(1).optional(),
    /** How often `progress` is reported, ms. */
    progressIntervalMs: progressIntervalSchema,
  })
  .strict();

/** A validated configuration, defaults filled. */
export type LinkConfig = z.infer<typeof linkConfigSchema>;
/** What a caller may pass: fields with defaults are optional. */
export type LinkConfigInput = z.input<typeof linkConfigSchema>;
