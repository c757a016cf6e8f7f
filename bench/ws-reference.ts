/**
 * The reference every agent figure is read against: a plain `ws` broadcast server and a plain `ws`
 * client that JSON.parses each message, measured in the same invocation, on the same machine.
 */
import type { Distribution } from '../lib/stats';
import type { BenchFigure } from './figures';
import { pinningNote, startWorker } from './harness';
import { benchTrade } from './workers/common';

/** The size of the messages every bench section sends (a raw-stream trade with µs times). */
export const MESSAGE_BYTES = benchTrade(1_000_000_000, 1_700_000_000_000_000).length;

/** Sends `count` messages from a plain ws server to `clients` plain ws clients; returns what the first client saw. */
export async function plainHop(options: { count: number; rate: number; clients?: number; burst?: number }) {
  const clients = options.clients ?? 1;
  const server = startWorker(
    'blaster',
    { count: options.count, rate: options.rate, clients, burst: options.burst ?? 1 },
    0,
  );
  const { port } = await server.waitFor((l) => l.ready === true, 'ready', 10_000);
  const sinks = Array.from({ length: clients }, () =>
    startWorker('sink', { url: `ws://127.0.0.1:${port}`, count: options.count, timeoutMs: 120_000 }, 1),
  );
  const results = await Promise.all(
    sinks.map(
      (s) =>
        s.waitFor((l) => 'received' in l, 'result', 180_000) as Promise<{
          received: number;
          latency: Distribution | null;
          firstNs: string;
          lastNs: string;
        }>,
    ),
  );
  server.kill();
  const first = results[0]!;
  const seconds = Number(BigInt(first.lastNs) - BigInt(first.firstNs)) / 1e9;
  return { received: first.received, msgsPerS: first.received / seconds, latency: first.latency };
}

export async function benchWsReference(): Promise<BenchFigure[]> {
  const base = { message_bytes: MESSAGE_BYTES, pinning: pinningNote(), parse: 'JSON.parse per message' };
  const max = await plainHop({ count: 200_000, rate: 0 });
  const paced = await plainHop({ count: 20_000, rate: 1_000 });
  return [
    {
      name: 'ws_reference.max_msgs_per_s',
      value: Math.round(max.msgsPerS),
      unit: 'msg/s',
      conditions: { ...base, messages: 200_000 },
    },
    {
      name: 'ws_reference.latency_p50_at_1000',
      value: (paced.latency?.median ?? NaN) / 1000,
      unit: 'ms',
      conditions: { ...base, rate: 1_000, messages: 20_000 },
    },
    {
      name: 'ws_reference.latency_p99_at_1000',
      value: (paced.latency?.p99 ?? NaN) / 1000,
      unit: 'ms',
      conditions: { ...base, rate: 1_000, messages: 20_000 },
    },
  ];
}
