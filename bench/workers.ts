/**
 * Processes the benchmarks start, each pinned to one core: `node dist/bench.js --worker <name> <json>`.
 * A worker prints one JSON line when ready (`{"ready":true,…}`) and one with its result, then exits.
 */
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { wallClock } from '../lib/clock';
import { describe } from '../lib/stats';
import { RELAY_PATH, RELAY_TOKEN_HEADER } from '../lib/wire';
import { ClientFrameCounter, acceptUpgrade, textFrames } from './raw-ws';

export type WorkerArgs = Record<string, unknown>;

function print(value: unknown, then?: () => void): void {
  process.stdout.write(`${JSON.stringify(value)}\n`, then);
}

/**
 * A Binance-shaped raw-stream trade (140 bytes; the combined-stream wrapper would add ~30) whose E
 * is the send instant in µs.
 */
export function benchTrade(id: number, eventTimeUs: number): string {
  return `{"e":"trade","E":${eventTimeUs},"s":"BTCUSDT","t":${id},"p":"61837.63000000","q":"0.02000000","T":${eventTimeUs},"m":true,"M":true}`;
}

/** The signal that tells a worker started with `waitSignal` to begin sending. */
export const START_SIGNAL = 'SIGUSR2';

/** Resolves on {@link START_SIGNAL} when `wait` is set, at once otherwise. */
function startSignal(wait: boolean): Promise<void> {
  if (!wait) return Promise.resolve();
  return new Promise((resolve) => process.once(START_SIGNAL, () => resolve()));
}

/** A worker the benchmark lost track of (killed without its children) leaves by itself. */
function exitAfter(ms: number): void {
  setTimeout(() => process.exit(3), ms).unref();
}

/**
 * A plain `ws` broadcast server: once `clients` clients are connected (and, with `waitSignal`, on
 * {@link START_SIGNAL}) it sends `count` trades to all of them, either as fast as the sockets take
 * them (`rate` 0) or at `rate` msg/s, in bursts of `burst` messages sent within one loop turn when
 * `burst` > 1.
 */
async function blaster(args: WorkerArgs): Promise<void> {
  const count = Number(args.count);
  const rate = Number(args.rate ?? 0);
  const clients = Number(args.clients ?? 1);
  const burst = Number(args.burst ?? 1);
  const clock = wallClock();
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const address = server.address();
  print({ ready: true, port: typeof address === 'object' && address !== null ? address.port : 0 });
  const sockets: WebSocket[] = [];
  const started = startSignal(args.waitSignal === true);
  await new Promise<void>((resolve) => {
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      sockets.push(socket);
      print({ connected: sockets.length });
      if (sockets.length === clients) resolve();
    });
  });
  await started;
  let sent = 0;
  const startedNs = process.hrtime.bigint();
  const sendOne = (): void => {
    const message = benchTrade(sent + 1, clock.nowUs());
    for (const socket of sockets) socket.send(message);
    sent += 1;
  };
  await new Promise<void>((resolve) => {
    const pump = (): void => {
      if (rate <= 0) {
        // As fast as the sockets drain: keep every socket's buffer under 4 MB.
        while (sent < count && sockets.every((s) => s.bufferedAmount < 4 << 20)) {
          for (let i = 0; i < 256 && sent < count; i += 1) sendOne();
        }
      } else {
        const due = Math.min(
          count,
          Math.floor((Number(process.hrtime.bigint() - startedNs) / 1e9) * rate) + 1,
        );
        while (sent < due) {
          for (let i = 0; i < burst && sent < count; i += 1) sendOne();
        }
      }
      if (sent >= count) resolve();
      else if (rate <= 0) setImmediate(pump);
      else setTimeout(pump, Math.max(0, Math.floor(1000 / rate) - 1));
    };
    pump();
  });
  // Let the clients read what is buffered, then leave.
  const drained = (): boolean => sockets.every((s) => s.bufferedAmount === 0);
  while (!drained()) await new Promise((resolve) => setTimeout(resolve, 20));
  print({ done: true, sent });
  await new Promise((resolve) => setTimeout(resolve, Number(args.lingerMs ?? 2000)));
  process.exit(0);
}

/** Per burst: spread between its first and last arrival stamps, and its last message's latency. */
export interface BurstFigures {
  spreadUs: number;
  lastLatencyUs: number;
}

/** The bursts at the end of a run: the last `bursts` groups of `burstSize` messages. */
export function burstFigures(
  stampsNs: Float64Array,
  latenciesUs: Float64Array,
  received: number,
  burstSize: number,
  bursts: number,
): BurstFigures[] {
  const out: BurstFigures[] = [];
  for (let b = bursts; b >= 1; b -= 1) {
    const first = received - b * burstSize;
    const last = first + burstSize - 1;
    if (first < 0) continue;
    out.push({
      spreadUs: ((stampsNs[last] as number) - (stampsNs[first] as number)) / 1000,
      lastLatencyUs: latenciesUs[last] as number,
    });
  }
  return out;
}

/**
 * A plain `ws` client that parses every message (JSON.parse), stamps it and records its one-way
 * latency (arrival − E), as a minimal receiver would. Reports its rate from the first tenth of the
 * messages on (`msgsPerS`), and with `burstSize` and `bursts` the spread of the last `bursts`
 * bursts (see {@link burstFigures}).
 */
async function sink(args: WorkerArgs): Promise<void> {
  const count = Number(args.count);
  const clock = wallClock();
  const latenciesUs = new Float64Array(count);
  const stampsNs = new Float64Array(count);
  let received = 0;
  let firstNs = 0n;
  let lastNs = 0n;
  const socket = new WebSocket(String(args.url), { perMessageDeflate: false });
  socket.on('error', (error) => {
    print({ error: error.message });
    process.exit(1);
  });
  const timeout = setTimeout(() => finish(), Number(args.timeoutMs ?? 60_000));
  function finish(): void {
    clearTimeout(timeout);
    const latency = describe(latenciesUs.subarray(0, received));
    const bursts =
      args.burstSize === undefined
        ? undefined
        : burstFigures(stampsNs, latenciesUs, received, Number(args.burstSize), Number(args.bursts ?? 1));
    const warm = Math.floor(received / 10);
    const last = received - 1;
    const msgsPerS =
      last > warm ? ((last - warm) * 1e9) / ((stampsNs[last] as number) - (stampsNs[warm] as number)) : null;
    print({ received, latency, bursts, msgsPerS, firstNs: String(firstNs), lastNs: String(lastNs) }, () =>
      process.exit(0),
    );
  }
  socket.on('open', () => print({ ready: true }));
  socket.on('message', (data) => {
    const now = clock.nowNs();
    const message = JSON.parse(data.toString()) as { E: number };
    if (received === 0) firstNs = now;
    lastNs = now;
    stampsNs[received] = Number(now - firstNs);
    latenciesUs[received] = Number(now / 1000n) - message.E + Number(now % 1000n) / 1000;
    received += 1;
    if (received === count) finish();
  });
}

/** One phase of a {@link frames} run. */
export interface FramePhase {
  count: number;
  /** Messages per second, in 1 ms ticks; 0: as fast as the sockets take them. */
  rate?: number;
  /** All `count` messages in one write, with one E (a sweep: many trades in one instant). */
  burst?: boolean;
  /** Wait this long before the phase starts. */
  pauseMs?: number;
}

/** Every socket has less than this unsent: the generator's backpressure bound. */
const FRAMES_HIGH_WATER = 1 << 20;
/** Messages built per write when sending as fast as possible. */
const FRAMES_BATCH = 256;

/** A µs epoch time of today's width (16 digits), recognisable in a built burst. */
const E_STAND_IN = 1_111_111_111_111_111;
const E_STAND_IN_TEXT = String(E_STAND_IN);

/** Where the stand-in E (and T) sit in a built burst. */
function standInOffsets(buffer: Buffer): number[] {
  const offsets: number[] = [];
  for (let at = buffer.indexOf(E_STAND_IN_TEXT); at >= 0; at = buffer.indexOf(E_STAND_IN_TEXT, at + 1))
    offsets.push(at);
  return offsets;
}

/** Overwrites the stand-in at each offset with `digits` (same width), byte by byte: no call per offset. */
function patchDigits(buffer: Buffer, offsets: readonly number[], digits: string): void {
  if (digits.length !== E_STAND_IN_TEXT.length) throw new Error(`E ${digits} is not 16 digits wide`);
  const codes = Array.from(digits, (c) => c.charCodeAt(0));
  for (const at of offsets) for (let k = 0; k < codes.length; k += 1) buffer[at + k] = codes[k] as number;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * A load generator that cannot be the bottleneck: a WebSocket server (any path) whose trades
 * ({@link benchTrade}, ids from 1, E = send time in µs) are built as ready frames in bulk and
 * written straight to the TCP sockets, one write per batch. Once `clients` are connected (and on
 * {@link START_SIGNAL} with `waitSignal`) it plays `phases` in order; then prints
 * `{done, sent, burstSendUs}` (per burst, E → the write's return) and lingers `lingerMs`.
 */
async function frames(args: WorkerArgs): Promise<void> {
  exitAfter(Number(args.maxLifeMs ?? 300_000));
  const phases = args.phases as FramePhase[];
  const clients = Number(args.clients ?? 1);
  const clock = wallClock();
  const sockets: Socket[] = [];
  const server: Server = createServer((_req, res) => res.writeHead(426).end());
  const connected = new Promise<void>((resolve) => {
    server.on('upgrade', (req, socket: Socket) => {
      socket.on('error', () => undefined);
      if (!acceptUpgrade(req, socket)) return;
      socket.setNoDelay(true);
      socket.on('data', () => undefined);
      sockets.push(socket);
      print({ connected: sockets.length });
      if (sockets.length === clients) resolve();
    });
  });
  const started = startSignal(args.waitSignal === true);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  print({ ready: true, port: typeof address === 'object' && address !== null ? address.port : 0 });
  await connected;
  await started;

  let sent = 0;
  /** Per burst, from taking E to the write's return: what the generator adds to the latency. */
  const burstSendUs: number[] = [];
  // Compiled before the first burst, so that stamping E is not followed by a cold loop.
  const scratch = textFrames([benchTrade(1, E_STAND_IN)]);
  for (let i = 0; i < 2_000; i += 1) patchDigits(scratch, standInOffsets(scratch), E_STAND_IN_TEXT);
  const build = (messages: number, eventTimeUs: number): Buffer => {
    const batch: string[] = [];
    for (let i = 0; i < messages; i += 1) batch.push(benchTrade(sent + i + 1, eventTimeUs));
    return textFrames(batch);
  };
  const writeAll = (buffer: Buffer, messages: number): void => {
    for (const socket of sockets) socket.write(buffer);
    sent += messages;
  };
  const full = (): Socket | undefined => sockets.find((s) => s.writableLength >= FRAMES_HIGH_WATER);
  for (const phase of phases) {
    if (phase.pauseMs !== undefined) await delay(phase.pauseMs);
    const end = sent + phase.count;
    if (phase.burst === true) {
      // Built first with a stand-in E of the same width, which is then overwritten with the send
      // instant: the time it takes to build 735 frames is not counted as the receiver's latency.
      const buffer = build(phase.count, E_STAND_IN);
      const offsets = standInOffsets(buffer);
      const eventTimeUs = clock.nowUs();
      patchDigits(buffer, offsets, String(eventTimeUs));
      writeAll(buffer, phase.count);
      burstSendUs.push(clock.nowUs() - eventTimeUs);
    } else if ((phase.rate ?? 0) <= 0) {
      while (sent < end) {
        const blocked = full();
        if (blocked !== undefined) {
          await new Promise((resolve) => blocked.once('drain', resolve));
          continue;
        }
        const messages = Math.min(FRAMES_BATCH, end - sent);
        writeAll(build(messages, clock.nowUs()), messages);
      }
    } else {
      const rate = phase.rate as number;
      const from = sent;
      const phaseStart = process.hrtime.bigint();
      await new Promise<void>((resolve) => {
        const tick = setInterval(() => {
          const elapsedS = Number(process.hrtime.bigint() - phaseStart) / 1e9;
          const due = Math.min(end, from + Math.floor(elapsedS * rate) + 1);
          if (due > sent) writeAll(build(due - sent, clock.nowUs()), due - sent);
          if (sent >= end) {
            clearInterval(tick);
            resolve();
          }
        }, 1);
      });
    }
  }
  while (sockets.some((s) => s.writableLength > 0 && !s.destroyed)) await delay(20);
  print({ done: true, sent, burstSendUs });
  await delay(Number(args.lingerMs ?? 2_000));
  process.exit(0);
}

/** What {@link relaySinks} reports per sink (all its connections together). */
export interface RelaySinkResult {
  port: number;
  stalled: boolean;
  connections: number;
  frames: number;
  /** Data frames per second from frame `warmup` to the last one; null if it never got that far. */
  msgsPerS: number | null;
}

/**
 * `sinks` relay receivers on ports of their own: each accepts the forwarder on RELAY_PATH with the
 * `token`, then counts its frames without decoding them. Sinks listed in `stall` accept and never
 * read again (a receiver that hangs). Prints `{results}` once every other sink has counted `expect`
 * frames, or after `timeoutMs`.
 */
async function relaySinks(args: WorkerArgs): Promise<void> {
  exitAfter(Number(args.maxLifeMs ?? 300_000));
  const n = Number(args.sinks ?? 1);
  const stall = new Set((args.stall as number[] | undefined) ?? []);
  const expect = Number(args.expect);
  const warmup = Number(args.warmup ?? 0);
  const token = String(args.token);
  interface SinkState {
    server: Server;
    port: number;
    connections: number;
    counter: ClientFrameCounter;
    warmNs: bigint | undefined;
    warmFrames: number;
    lastNs: bigint;
  }
  const states: SinkState[] = [];
  let reported = false;
  const report = (): void => {
    if (reported) return;
    reported = true;
    const results: RelaySinkResult[] = states.map((s, i) => ({
      port: s.port,
      stalled: stall.has(i),
      connections: s.connections,
      frames: s.counter.frames,
      msgsPerS:
        s.warmNs === undefined || s.lastNs <= s.warmNs
          ? null
          : ((s.counter.frames - s.warmFrames) * 1e9) / Number(s.lastNs - s.warmNs),
    }));
    print({ results }, () => process.exit(0));
  };
  const check = (): void => {
    if (states.every((s, i) => stall.has(i) || s.counter.frames >= expect)) report();
  };
  for (let i = 0; i < n; i += 1) {
    const server = createServer((_req, res) => res.writeHead(426).end());
    const state: SinkState = {
      server,
      port: 0,
      connections: 0,
      counter: new ClientFrameCounter(),
      warmNs: undefined,
      warmFrames: 0,
      lastNs: 0n,
    };
    server.on('upgrade', (req, socket: Socket) => {
      socket.on('error', () => undefined);
      if (req.url !== RELAY_PATH || req.headers[RELAY_TOKEN_HEADER] !== token) {
        socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
        return;
      }
      if (!acceptUpgrade(req, socket)) return;
      state.connections += 1;
      if (stall.has(i)) {
        socket.pause();
        return;
      }
      socket.on('data', (chunk: Buffer) => {
        if (state.counter.push(chunk) === 0) return;
        state.lastNs = process.hrtime.bigint();
        if (state.warmNs === undefined && state.counter.frames >= warmup) {
          state.warmNs = state.lastNs;
          state.warmFrames = state.counter.frames;
        }
        if (state.counter.frames >= expect) check();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    state.port = typeof address === 'object' && address !== null ? address.port : 0;
    states.push(state);
  }
  setTimeout(report, Number(args.timeoutMs ?? 120_000)).unref();
  print({ ready: true, ports: states.map((s) => s.port) });
  await new Promise(() => undefined);
}

/**
 * A plain `ws` relay in the forwarder's place — the reference for the forwarder's added latency: a
 * `ws` client of `exchangeUrl` that sends each message on as `<stamp ns> <message>` to a receiver's
 * relay endpoint (`receiverUrl`, with `token`), with nothing else on its path.
 */
async function wsRelay(args: WorkerArgs): Promise<void> {
  exitAfter(Number(args.maxLifeMs ?? 300_000));
  const clock = wallClock();
  const fail = (error: Error): void => {
    print({ error: error.message });
    process.exit(1);
  };
  const out = new WebSocket(String(args.receiverUrl), {
    perMessageDeflate: false,
    headers: { [RELAY_TOKEN_HEADER]: String(args.token) },
  });
  out.on('error', fail);
  await new Promise((resolve) => out.once('open', resolve));
  const input = new WebSocket(String(args.exchangeUrl), { perMessageDeflate: false });
  input.on('error', fail);
  input.on('message', (data: Buffer) => {
    const stampNs = clock.nowNs();
    out.send(`${stampNs} ${data.toString()}`);
  });
  input.on('open', () => print({ ready: true }));
}

export const workers: Record<string, (args: WorkerArgs) => Promise<void>> = {
  wsRelay,
  blaster,
  sink,
  frames,
  relaySinks,
};
