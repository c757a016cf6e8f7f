/**
 * The configuration both agents share: where the exchange is, which streams, and how the exchange
 * connection and the relay reconnect. Field names follow the seed experiment's where it had them
 * (`reconnect_max_delay_secs` → `reconnectMaxDelaySecs`), in camelCase like the rest of feedpath.
 */
import { z } from 'zod';
import { BINANCE_WS_BASE, streamUrl } from '../../lib/binance';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import { streamsSchema } from '../../lib/experiment';
import { DEFAULT_BACKOFF_BASE_MS, DEFAULT_BACKOFF_CAP_MS } from './backoff';
import { DEFAULT_RELAY_PING_INTERVAL_MS } from './heartbeat';
import { progressIntervalSchema } from './agent-kit';
import {
  DEFAULT_OVERLAP_TIMEOUT_MS,
  DEFAULT_SILENCE_TIMEOUT_MS,
  type ExchangeFeedOptions,
} from './feed-options';
import { DEFAULT_MAX_CONNECTION_MS, MAX_TIMER_MS } from './limits';

/** Where the relay token is read from when the configuration has none (keeps it out of argv). */
export const TOKEN_ENV = 'FEEDPATH_RELAY_TOKEN';

/** How often each end of the relay pings the other; two intervals without an answer = dead. */
export const relayPingIntervalSchema = z
  .number()
  .int()
  .min(10)
  .max(3_600_000)
  .default(DEFAULT_RELAY_PING_INTERVAL_MS);

/** Fields of the exchange connection, spread into each agent's schema. */
export const feedConfigShape = {
  /**
   * The exchange: a base URL (`wss://stream.binance.com:9443`, `ws://127.0.0.1:9100`) to which the
   * combined-stream path for `streams` is added, or a full stream URL (path `/ws/…` or `/stream…`)
   * used as is.
   */
  exchangeUrl: z
    .string()
    .url()
    .refine((url) => /^wss?:\/\//.test(url), 'a ws:// or wss:// URL')
    .default(BINANCE_WS_BASE),
  streams: streamsSchema,
  /** Upper bound of the first reconnect wait, ms (full jitter: the wait is uniform below it). */
  reconnectBaseDelayMs: z.number().min(1).max(MAX_TIMER_MS).default(DEFAULT_BACKOFF_BASE_MS),
  /** The seed's `reconnect_max_delay_secs`: the cap of every reconnect wait. */
  reconnectMaxDelaySecs: z
    .number()
    .positive()
    .max(MAX_TIMER_MS / 1000)
    .default(DEFAULT_BACKOFF_CAP_MS / 1000),
  /** No message and no ping from the exchange for this long: leave and reconnect. */
  silenceTimeoutMs: z.number().int().min(10).max(MAX_TIMER_MS).default(DEFAULT_SILENCE_TIMEOUT_MS),
  /** The exchange's connection lifetime; the feed rolls over at 95 % of it. */
  maxConnectionMs: z.number().int().min(100).max(MAX_TIMER_MS).default(DEFAULT_MAX_CONNECTION_MS),
  /** How long a rollover waits for the new connection to catch up before switching anyway. */
  overlapTimeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).default(DEFAULT_OVERLAP_TIMEOUT_MS),
  /** Fail (FP_EXCHANGE_UNREACHABLE) if the exchange was never reached this long after start; default: keep trying. */
  connectTimeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).optional(),
  /** How often `progress` is reported and resources sampled, ms. */
  progressIntervalMs: progressIntervalSchema,
  /** Stop by itself after this long; default: run until SIGTERM/SIGINT. */
  durationSeconds: z
    .number()
    .positive()
    .max(MAX_TIMER_MS / 1000)
    .optional(),
  /** The results folder (sample CSVs, summaries, `metrics/`). */
  outDir: z.string().min(1).default('results'),
  /** The relay's shared secret; default: the FEEDPATH_RELAY_TOKEN environment variable. */
  token: z.string().min(1).optional(),
};

type FeedConfig = z.output<z.ZodObject<typeof feedConfigShape>>;

/** The stream URL the agents connect to: always combined, so every message names its stream. */
export function exchangeStreamUrl(config: Pick<FeedConfig, 'exchangeUrl' | 'streams'>): string {
  const url = new URL(config.exchangeUrl);
  if (url.pathname !== '/' && url.pathname !== '') return config.exchangeUrl;
  return streamUrl(config.exchangeUrl, config.streams, { combined: true });
}

/** The exchange feed's options from an agent's configuration. */
export function feedOptions(config: FeedConfig): Omit<ExchangeFeedOptions, 'onMessage' | 'events'> {
  return {
    url: exchangeStreamUrl(config),
    backoff: { baseMs: config.reconnectBaseDelayMs, capMs: config.reconnectMaxDelaySecs * 1000 },
    silenceTimeoutMs: config.silenceTimeoutMs,
    maxConnectionMs: config.maxConnectionMs,
    overlapTimeoutMs: config.overlapTimeoutMs,
    connectTimeoutMs: config.connectTimeoutMs,
  };
}

/** The relay token from the configuration or the environment; a clear error when neither has one. */
export function resolveToken(agent: string, token: string | undefined): string {
  const resolved = token ?? process.env[TOKEN_ENV];
  if (resolved === undefined || resolved === '') {
    throw new FeedpathError(
      ErrorCode.badConfig,
      `${agent} configuration: token: required (or set the ${TOKEN_ENV} environment variable)`,
    );
  }
  return resolved;
}
