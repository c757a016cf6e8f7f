/**
 * Processes the benchmarks start, each pinned to one core: `node dist/bench.js --worker <name> <json>`.
 * A worker prints one JSON line when ready (`{"ready":true,…}`) and one with its result, then exits.
 */
import { WebSocket, WebSocketServer } from 'ws';
import { wallClock } from '../lib/clock';
import { describe } from '../lib/stats';

export type WorkerArgs = Record<string, unknown>;

function print(value: unknown, then?: () => void): void {
  process.stdout.write(`${JSON.stringify(value)}\n`, then);
}

/** A Binance-shaped trade (~170 bytes) whose E is the send instant in µs. */
export function benchTrade(id: number, eventTimeUs: number): string {
  return `{"e":"trade","E":${eventTimeUs},"s":"BTCUSDT","t":${id},"p":"61837.63000000","q":"0.02000000","T":${eventTimeUs},"m":true,"M":true}`;
}

/**
 * A plain `ws` broadcast server: once `clients` clients are connected it sends `count` trades to
 * all of them, either as fast as the sockets take them (`rate` 0) or at `rate` msg/s, in bursts of
 * `burst` messages sent within one loop turn when `burst` > 1.
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
  await new Promise<void>((resolve) => {
    server.on('connection', (socket) => {
      socket.on('error', () => undefined);
      sockets.push(socket);
      if (sockets.length === clients) resolve();
    });
  });
  let sent = 0;
  const started = process.hrtime.bigint();
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
        const due = Math.min(count, Math.floor((Number(process.hrtime.bigint() - started) / 1e9) * rate) + 1);
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

/**
 * A plain `ws` client that parses every message (JSON.parse), stamps it and records its one-way
 * latency (arrival − E), as a minimal receiver would.
 */
async function sink(args: WorkerArgs): Promise<void> {
  const count = Number(args.count);
  const clock = wallClock();
  const latenciesUs = new Float64Array(count);
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
    print({ received, latency, firstNs: String(firstNs), lastNs: String(lastNs) }, () => process.exit(0));
  }
  socket.on('open', () => print({ ready: true }));
  socket.on('message', (data) => {
    const now = clock.nowNs();
    const message = JSON.parse(data.toString()) as { E: number };
    if (received === 0) firstNs = now;
    lastNs = now;
    latenciesUs[received] = Number(now / 1000n) - message.E + Number(now % 1000n) / 1000;
    received += 1;
    if (received === count) finish();
  });
}

export const workers: Record<string, (args: WorkerArgs) => Promise<void>> = { blaster, sink };
