/**
 * The exchange simulator in-process: a Binance-compatible server fed by a synthetic market or a
 * capture replay. The agent's main uses it, and so do tests (this agent's and the others').
 */
import { wallClock } from '../../lib/clock';
import { parseAgentConfig } from '../../lib/agent';
import { openCapture } from '../../lib/capture';
import { exchangeConfigSchema, type ExchangeConfig, type ExchangeConfigInput } from './config';
import { Replay, type ReplaySummary } from './replay';
import type { MicrosecondClock } from './event';
import { ExchangeServer, type ServerCounters } from './server';
import { SyntheticFeed, SyntheticMarket } from './synthetic';

export interface ExchangeOptions {
  /** The wall clock that stamps E (default: lib/clock's process-wide clock). */
  clock?: MicrosecondClock;
}

/** Replay progress, as counted so far. */
export interface ReplayCounters {
  started: boolean;
  finished: boolean;
  events: number;
  skipped: { nonStream: number; malformed: number };
}

/** What `stop()` reports (the agent's `done`). */
export interface ExchangeTotals extends Omit<ServerCounters, 'clients'> {
  port: number;
  source: ExchangeConfig['source']['kind'];
  replay?: ReplayCounters;
}

/** A running exchange. */
export interface ExchangeHandle {
  readonly config: ExchangeConfig;
  /** The bound port (the configured one, or the one the system picked for port 0). */
  readonly port: number;
  /** `ws://host:port`: append `/ws/<stream>` or `/stream?streams=…`. */
  readonly url: string;
  /** Live counts. */
  readonly counters: ServerCounters;
  /** Replay only: live replay counts. */
  readonly replay: ReplayCounters | undefined;
  /**
   * Replay only: resolves when the whole capture has been sent (the server keeps serving), rejects
   * with FP_BAD_CAPTURE if the capture cannot be read to its end.
   */
  readonly replayDone: Promise<ReplaySummary> | undefined;
  /** Lets a source configured with `waitForStart` begin (a replay also waits for its clients). */
  start(): void;
  /** Stops the source, closes every connection (1001) and the listener; resolves with the totals. */
  stop(): Promise<ExchangeTotals>;
}

/**
 * Starts the exchange: listens, then starts its source (a replay waits for `waitForClients` clients
 * and `startDelayMs`). A port in use is FP_PORT_IN_USE; a missing or unreadable capture is
 * FP_BAD_CAPTURE, and nothing is left listening.
 */
export async function startExchange(
  input: ExchangeConfigInput = {},
  options: ExchangeOptions = {},
): Promise<ExchangeHandle> {
  return openExchange(parseAgentConfig('exchange', exchangeConfigSchema, input), options);
}

/** Starts the exchange from a validated configuration (see {@link startExchange}). */
export async function openExchange(
  config: ExchangeConfig,
  options: ExchangeOptions = {},
): Promise<ExchangeHandle> {
  const clock = options.clock ?? wallClock();
  const { source } = config;
  // Open the capture before listening: a bad file fails the start, not the run.
  const reader = source.kind === 'replay' ? await openCapture(source.file) : undefined;
  const server = new ExchangeServer({ ...config, clock });
  try {
    await server.listen();
  } catch (error) {
    await reader?.close();
    throw error;
  }
  const publish = server.publish.bind(server);

  let feed: SyntheticFeed | undefined;
  let replay: Replay | undefined;
  let startTimer: NodeJS.Timeout | undefined;
  let startCommand: (() => void) | undefined;
  let stopped = false;
  let replayFinished = false;
  const startCommanded = source.waitForStart
    ? new Promise<void>((resolve) => (startCommand = resolve))
    : Promise.resolve();
  if (source.kind === 'synthetic') {
    const current = new SyntheticFeed(new SyntheticMarket(source), publish, clock);
    feed = current;
    void startCommanded.then(() => {
      if (!stopped) current.start();
    });
  } else if (reader !== undefined) {
    const current = new Replay(reader, source.speed, publish);
    replay = current;
    current.done.then(
      () => (replayFinished = true),
      () => undefined,
    );
    void Promise.all([server.waitForClients(source.waitForClients), startCommanded]).then(() => {
      if (stopped) return;
      startTimer = setTimeout(() => current.start(), source.startDelayMs);
    });
  }

  const replayCounters = (): ReplayCounters | undefined =>
    replay === undefined || reader === undefined
      ? undefined
      : {
          started: replay.started,
          finished: replayFinished,
          events: replay.events,
          skipped: { ...reader.skipped },
        };

  return {
    config,
    port: server.port,
    url: server.url,
    counters: server.counters,
    get replay() {
      return replayCounters();
    },
    replayDone: replay?.done,
    start: () => startCommand?.(),
    async stop() {
      if (!stopped) {
        stopped = true;
        clearTimeout(startTimer);
        feed?.stop();
        await replay?.stop();
        await server.stop();
      }
      const { clients: _clients, ...counts } = server.counters;
      const totals: ExchangeTotals = {
        port: server.port,
        source: source.kind,
        ...counts,
        events: { ...counts.events },
      };
      const replayTotals = replayCounters();
      if (replayTotals !== undefined) totals.replay = replayTotals;
      return totals;
    },
  };
}
