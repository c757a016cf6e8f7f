/** The `sink` worker: a plain `ws` client, the reference a receiver is read against (and its burst figures). */
import { WebSocket } from 'ws';
import { wallClock } from '../../lib/clock';
import { describe } from '../../lib/stats';
import { print, type WorkerArgs } from './common';

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
export async function sink(args: WorkerArgs): Promise<void> {
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
