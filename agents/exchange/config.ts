/**
 * The exchange simulator's configuration, validated once at the edge (`--config` / `--config-json`,
 * or {@link startExchange}'s argument). Unknown keys are rejected; defaults follow Binance spot.
 */
import { z } from 'zod';
import { progressIntervalSchema } from '../common/agent-kit';
import { DEFAULT_MAX_CONNECTION_MS, MAX_TIMER_MS } from '../common/limits';

/** Binance pings every 20 s. */
export const DEFAULT_PING_INTERVAL_MS = 20_000;
/** …and drops a client that has not answered a ping within a minute. */
export const DEFAULT_PONG_TIMEOUT_MS = 60_000;
/**
 * How long before the forced close `serverShutdown` is sent, when not configured: 10 minutes
 * (what client libraries report seeing), but never more than a tenth of the connection lifetime,
 * so a short test lifetime does not announce the shutdown at connect time.
 */
export const DEFAULT_SHUTDOWN_NOTICE_MS = 10 * 60 * 1000;

const symbolSchema = z.string().regex(/^[a-z0-9]+$/, 'a lowercase symbol such as btcusdt');

export const syntheticSourceSchema = z
  .object({
    kind: z.literal('synthetic'),
    /** Lowercase symbols to trade; each gets trade, aggTrade, bookTicker and depth@100ms streams. */
    symbols: z.array(symbolSchema).min(1).default(['btcusdt']),
    /** Mean rate of ordinary trades per symbol (Poisson arrivals). */
    tradesPerSecond: z.number().min(0).max(100_000).default(30),
    /** Mean rate of bookTicker updates per symbol (Poisson arrivals). */
    bookTickerPerSecond: z.number().min(0).max(100_000).default(100),
    /** Trades in one sweep: a taker order filled against many makers in one millisecond (0: none). */
    burstSize: z.number().int().min(0).max(100_000).default(300),
    /** Mean interval between sweeps per symbol, ms (exponentially distributed; 0: no sweeps). */
    burstIntervalMs: z.number().min(0).max(MAX_TIMER_MS).default(10_000),
    /** The same seed gives the same sequence of events (ids, prices, quantities, spacing). */
    seed: z.number().int().default(1),
    /** Trade only after a `start` command (the local run sends it once both paths are connected). */
    waitForStart: z.boolean().default(false),
  })
  .strict();

export const replaySourceSchema = z
  .object({
    kind: z.literal('replay'),
    /** A capture file (text or gzip): `<receive time ns> <raw message JSON>` per line. */
    file: z.string().min(1),
    /** Pace multiplier: 1 = recorded pace, 20 = twenty times faster. */
    speed: z.number().positive().max(1_000_000).default(1),
    /**
     * Start the replay once this many clients are connected (0: at once). A local run connects the
     * receiver and the forwarder first, so that both paths see the capture from its first line.
     */
    waitForClients: z.number().int().min(0).max(10_000).default(0),
    /**
     * Also wait for a `start` command (agent stdin, or `start()` in process): the local run sends it
     * once the forwarder's relay reaches the receiver, so the backbone sees the first line too.
     */
    waitForStart: z.boolean().default(false),
    /** Then wait this much longer before the first line goes out, ms. */
    startDelayMs: z.number().min(0).max(MAX_TIMER_MS).default(0),
  })
  .strict();

export const exchangeConfigSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port; the bound port is reported in `ready`. */
    port: z.number().int().min(0).max(65_535).default(0),
    pingIntervalMs: z.number().int().min(1).max(MAX_TIMER_MS).default(DEFAULT_PING_INTERVAL_MS),
    /** A client that has not answered a ping within this time is terminated. */
    pongTimeoutMs: z.number().int().min(1).max(MAX_TIMER_MS).default(DEFAULT_PONG_TIMEOUT_MS),
    /** A connection is closed (code 1001) after this long. */
    maxConnectionMs: z.number().int().min(1).max(MAX_TIMER_MS).default(DEFAULT_MAX_CONNECTION_MS),
    /** `serverShutdown` goes out this long before the forced close (default: see DEFAULT_SHUTDOWN_NOTICE_MS). */
    shutdownNoticeMs: z.number().int().min(0).max(MAX_TIMER_MS).optional(),
    source: z
      .discriminatedUnion('kind', [syntheticSourceSchema, replaySourceSchema])
      .prefault({ kind: 'synthetic' }),
    /** How often `progress` is reported, ms. */
    progressIntervalMs: progressIntervalSchema,
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.shutdownNoticeMs !== undefined && config.shutdownNoticeMs >= config.maxConnectionMs) {
      ctx.addIssue({
        code: 'custom',
        path: ['shutdownNoticeMs'],
        message: `must be less than maxConnectionMs (${config.maxConnectionMs})`,
      });
    }
  })
  .transform((config) => ({
    ...config,
    shutdownNoticeMs:
      config.shutdownNoticeMs ??
      Math.min(DEFAULT_SHUTDOWN_NOTICE_MS, Math.floor(config.maxConnectionMs / 10)),
  }));

/** The configuration as written (fields optional). */
export type ExchangeConfigInput = z.input<typeof exchangeConfigSchema>;
/** The configuration with its defaults filled in. */
export type ExchangeConfig = z.output<typeof exchangeConfigSchema>;
export type SyntheticSource = z.output<typeof syntheticSourceSchema>;
export type ReplaySource = z.output<typeof replaySourceSchema>;
