/**
 * The forwarder's configuration (`--config` / `--config-json`, or {@link startForwarder}'s argument).
 * Unknown keys are rejected. The seed's `receiver IP` / `port` become `receivers: [{ host, port }]`
 * (several receivers get the same relay: fan-out).
 */
import { z } from 'zod';
import { feedConfigShape, relayPingIntervalSchema } from '../common/config';

/** A receiver that has this much unsent relay data is cut off (and reconnected later). */
export const DEFAULT_MAX_BUFFERED_BYTES = 8 * 1024 * 1024;
/** After this many consecutive 401 answers from a receiver the forwarder gives up (FP_AUTH_REJECTED). */
export const DEFAULT_AUTH_REJECT_LIMIT = 5;

export const receiverAddressSchema = z
  .object({
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535),
  })
  .strict();

export const forwarderConfigSchema = z
  .object({
    ...feedConfigShape,
    receivers: z.array(receiverAddressSchema).min(1),
    /** Per receiver: a send that would leave more unsent bytes than this cuts the receiver off (checked before the write, so the bound holds exactly), so a slow one cannot stall the others or grow memory. */
    maxBufferedBytes: z
      .number()
      .int()
      .min(1024)
      .max(1024 ** 3)
      .default(DEFAULT_MAX_BUFFERED_BYTES),
    /** Consecutive token rejections (HTTP 401) by one receiver before the forwarder fails. */
    authRejectLimit: z.number().int().min(1).max(1_000_000).default(DEFAULT_AUTH_REJECT_LIMIT),
    /** How often the forwarder pings each receiver; two intervals without an answer = dead. */
    relayPingIntervalMs: relayPingIntervalSchema,
  })
  .strict();

/** The configuration as written (fields with defaults optional). */
export type ForwarderConfigInput = z.input<typeof forwarderConfigSchema>;
/** The configuration with its defaults filled in. */
export type ForwarderConfig = z.output<typeof forwarderConfigSchema>;
