/**
 * What the exchange feed (./feed.ts) is given: its options and their defaults, the callbacks it
 * reports through, and the counters it keeps.
 */
import type { FeedpathError } from '../../lib/errors';
import type { WallClock } from '../../lib/clock';
import type { BackoffOptions } from './backoff';
import type { ConnectionLog } from './connection-log';
import { DEFAULT_MAX_CONNECTION_MS } from './limits';

/** No message and no ping for this long: the server is dead (Binance pings every 20 s). */
export const DEFAULT_SILENCE_TIMEOUT_MS = 60_000;
/** Roll over at this fraction of `maxConnectionMs` (22.8 h of 24 h). */
export const DEFAULT_ROLLOVER_AT = 0.95;
/** Switch to the new connection after this long even if no event came in on both. */
export const DEFAULT_OVERLAP_TIMEOUT_MS = 10_000;
/** After a switch, de-duplication goes on in steps of this long while the new connection lags. */
export const DEFAULT_OVERLAP_DRAIN_MS = 1_000;
/** A WebSocket handshake that takes longer is a failed attempt. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;
/** A connection that lived this long resets the backoff (a server that accepts and drops at once does not). */
export const DEFAULT_STABLE_AFTER_MS = 5_000;
/** While the exchange stays unreachable, repeat the warning this often. */
export const DEFAULT_UNREACHABLE_WARNING_INTERVAL_MS = 30_000;

/** `connection`: the ordinal of the connection that delivered the message (see the class comment). */
export type MessageHandler = (data: Buffer, stampNs: bigint, connection: number) => void;

export interface FeedEvents {
  /** Something a user should see; the feed keeps going. */
  warning?(error: FeedpathError): void;
  /** The feed gave up (`connectTimeoutMs` elapsed without a connection); it is stopped. */
  fatal?(error: FeedpathError): void;
  /** A human-readable line about the connection's life (connects, closes, rollovers). */
  log?(message: string): void;
}

export interface ExchangeFeedOptions {
  /** The full stream URL (see lib/binance `streamUrl`). */
  url: string;
  /**
   * Called once per market message with the frame's raw bytes (UTF-8 text, never re-encoded), the
   * arrival stamp (ns since the epoch) taken first thing on arrival, and the delivering
   * connection's ordinal.
   */
  onMessage: MessageHandler;
  /** Where the connections are logged and numbered; default: a log of this feed alone. */
  connections?: ConnectionLog;
  clock?: WallClock;
  backoff?: BackoffOptions;
  /** [silenceTimeoutMs=60000] */
  silenceTimeoutMs?: number;
  /** [maxConnectionMs=86400000] The exchange's connection lifetime limit. */
  maxConnectionMs?: number;
  /** [rolloverAt=0.95] Fraction of `maxConnectionMs` at which to roll over. */
  rolloverAt?: number;
  /** [overlapTimeoutMs=10000] */
  overlapTimeoutMs?: number;
  /** [overlapDrainMs=1000] */
  overlapDrainMs?: number;
  /** Give up (fatal FP_EXCHANGE_UNREACHABLE) if no connection succeeded this long after start; default: never. */
  connectTimeoutMs?: number;
  /** [handshakeTimeoutMs=10000] */
  handshakeTimeoutMs?: number;
  /** [stableAfterMs=5000] */
  stableAfterMs?: number;
  /** [unreachableWarningIntervalMs=30000] */
  unreachableWarningIntervalMs?: number;
  events?: FeedEvents;
}

/** What the feed has seen so far. */
export interface FeedCounters {
  /** Messages received on every connection (duplicates of an overlap included). */
  messages: number;
  /** Successful connections (the first one included). */
  connects: number;
  /** Connection attempts that failed before opening. */
  failedAttempts: number;
  /** Open connections that were lost (not counting the ones a rollover retired). */
  drops: number;
  /** Connections left because the server went silent. */
  silentDrops: number;
  rollovers: number;
  /** Messages not passed on because an overlap had already passed the same event on. */
  duplicatesDropped: number;
  /** serverShutdown notices received. */
  serverShutdowns: number;
}

/** The options with a default, filled in; `connectTimeoutMs` has none (keep trying). */
export type Tunables = Required<
  Omit<
    ExchangeFeedOptions,
    'url' | 'onMessage' | 'clock' | 'backoff' | 'events' | 'connectTimeoutMs' | 'connections'
  >
> & {
  connectTimeoutMs: number | undefined;
};

/** The options with their defaults filled in. */
export function tunables(options: ExchangeFeedOptions): Tunables {
  return {
    silenceTimeoutMs: options.silenceTimeoutMs ?? DEFAULT_SILENCE_TIMEOUT_MS,
    maxConnectionMs: options.maxConnectionMs ?? DEFAULT_MAX_CONNECTION_MS,
    rolloverAt: options.rolloverAt ?? DEFAULT_ROLLOVER_AT,
    overlapTimeoutMs: options.overlapTimeoutMs ?? DEFAULT_OVERLAP_TIMEOUT_MS,
    overlapDrainMs: options.overlapDrainMs ?? DEFAULT_OVERLAP_DRAIN_MS,
    handshakeTimeoutMs: options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    stableAfterMs: options.stableAfterMs ?? DEFAULT_STABLE_AFTER_MS,
    unreachableWarningIntervalMs:
      options.unreachableWarningIntervalMs ?? DEFAULT_UNREACHABLE_WARNING_INTERVAL_MS,
    connectTimeoutMs: options.connectTimeoutMs,
  };
}
