/**
 * The receiver's configuration (`--config` / `--config-json`, or {@link startReceiver}'s argument).
 * Unknown keys are rejected. The seed's receiver IP and port are `host` and `port` (where it listens
 * for the forwarder's relay).
 */
import { z } from 'zod';
import { MODES } from '../../lib/experiment';
import { feedConfigShape, relayPingIntervalSchema } from '../common/config';

/** The port the receiver listens on for relays when none is given. */
export const DEFAULT_RELAY_PORT = 9000;

export const receiverConfigSchema = z
  .object({
    ...feedConfigShape,
    /** paired: the exchange directly (baseline) and the forwarder's relay (backbone) at once. */
    mode: z.enum(MODES).default('paired'),
    /**
     * The A/A control: a second direct connection to the exchange (same URL, same streams),
     * recorded as `control-results.csv` beside the baseline: the method's own noise floor. Only
     * where the baseline is recorded (modes paired and baseline); ignored in backbone mode.
     */
    control: z.boolean().default(true),
    /**
     * Record the raw messages of the direct exchange connection (the baseline) as a capture,
     * `capture/baseline.jsonl.gz` (lib/capture-writer.ts), which `feedpath run --replay` plays back.
     * Only where the baseline is recorded; ignored in backbone mode.
     */
    record: z.boolean().default(false),
    /** Where the relay is accepted (all interfaces by default: the forwarder is on another host). */
    host: z.string().min(1).default('0.0.0.0'),
    /** 0 takes any free port; the bound port is reported in `ready`. */
    port: z.number().int().min(0).max(65_535).default(DEFAULT_RELAY_PORT),
    /** How often each forwarder connection is pinged; two intervals without an answer = dead. */
    relayPingIntervalMs: relayPingIntervalSchema,
    /** Sample rows reach the file at least this often (a crash loses at most this much). */
    flushIntervalMs: z.number().int().min(10).max(1_000).default(250),
  })
  .strict();

/** The configuration as written (fields with defaults optional). */
export type ReceiverConfigInput = z.input<typeof receiverConfigSchema>;
/** The configuration with its defaults filled in. */
export type ReceiverConfig = z.output<typeof receiverConfigSchema>;
