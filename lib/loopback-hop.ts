/**
 * The lab's own hop cost: one loopback hop between two idle processes, and the compensation a link
 * emulator takes off its delays for it.
 *
 * Every process of a local run sleeps between messages, so each loopback hop pays the machine's
 * wake-up latency (≈ 0.11–0.18 ms on the 2-core VM this was built on). Every hop of the lab touches
 * exactly one link: the baseline is exchange → link → receiver (2 hops, 1 link), the backbone
 * exchange → link → forwarder → link → receiver (4 hops, 2 links). So a link that releases each
 * chunk two hops early makes each path's end-to-end delay the profile's, whatever the number of
 * links on it. The cost is measured where it is true — on this machine, at the start of the run, by
 * an echo between two idle processes started with the agents' flags — and handed to each link in
 * its config (`compensationMs`, agents/link/config.ts).
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import { z } from 'zod';
import { AGENT_NODE_FLAGS } from './node-flags';
import { percentileSorted } from './stats';

/** One hop's cost: half the round trip to an echo process, µs. */
export const loopbackHopSchema = z.object({
  medianUs: z.number(),
  /**
   * The mean of the fastest 95 % (a rare stall of several ms left out): what a link compensates.
   * Absent in runs from before it (their links compensated the median).
   */
  meanUs: z.number().optional(),
  p90Us: z.number(),
  /** Round trips measured. */
  samples: z.number().int(),
});
export type LoopbackHop = z.infer<typeof loopbackHopSchema>;

/**
 * run.json `lab` of a local run with link emulators (cli/local/lab.ts writes it, the truth bench
 * reads it): the hop the lab measured and what each link took off its delays for it.
 */
export const labHopsSchema = z.object({
  /** false with `--no-hop-compensation`: the links added their whole delay (the hop is still measured). */
  compensated: z.boolean(),
  /** The measured hop; null when the probe failed. */
  hop: loopbackHopSchema.nullable(),
  /** What each link took off each drawn delay, ms (0 when not compensated or not measured). */
  linkCompensationMs: z.number().min(0),
  /** Why the hop was not measured. */
  problem: z.string().optional(),
});
export type LabHops = z.infer<typeof labHopsSchema>;

export interface LoopbackHopOptions {
  /** Round trips to take. */
  messages?: number;
  /** Pause between them: long enough for both processes to fall asleep, as between the run's messages. */
  intervalMs?: number;
  /** Message size, bytes (a trade of the run is ~150). */
  bytes?: number;
  /** Gives up (rejects) after this long. */
  timeoutMs?: number;
}

/** Each link sits between two of the lab's hops (see the module comment). */
export const HOPS_PER_LINK = 2;

/**
 * What a link takes off each delay for a measured hop, ms (µs precision): two hops' mean cost (the
 * median where the mean was not measured). The mean, not the median: a hop's cost is skewed (most
 * are fast, some pay a longer wake-up), and added to a delay whose jitter is wider than that skew,
 * it moves the path's median by about its mean — compensating the median left ≈ 0.1 ms per link.
 */
export function linkCompensationMs(hop: Pick<LoopbackHop, 'medianUs' | 'meanUs'>): number {
  const cost = hop.meanUs ?? hop.medianUs;
  if (!(cost > 0)) return 0;
  return Math.round(HOPS_PER_LINK * cost) / 1000;
}

/** The mean of the fastest `share` of sorted values. */
function trimmedMean(sorted: Float64Array, share: number): number {
  const n = Math.max(1, Math.floor(sorted.length * share));
  let sum = 0;
  for (let i = 0; i < n; i++) sum += sorted[i] as number;
  return sum / n;
}

/** The echo process: writes back every byte it reads. */
const ECHO_SCRIPT =
  "require('net').createServer({ noDelay: true }, (s) => { s.on('data', (d) => s.write(d)); s.on('error', () => {}); })" +
  ".listen(0, '127.0.0.1', function () { console.log(this.address().port); });" +
  // It ends with its parent: a probe that is abandoned leaves no process behind.
  "process.stdin.on('close', () => process.exit(0)); process.stdin.resume();";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One loopback hop between two idle processes: this process pings an echo process (started with
 * {@link AGENT_NODE_FLAGS}, as the agents are) `messages` times, `intervalMs` apart; half the
 * median round trip. The median: a ping that meets a busy core (agents starting alongside) is slow,
 * and is one sample of many.
 */
export async function measureLoopbackHop(options: LoopbackHopOptions = {}): Promise<LoopbackHop> {
  const { messages = 100, intervalMs = 5, bytes = 150, timeoutMs = 10_000 } = options;
  const echo = spawn(process.execPath, [...AGENT_NODE_FLAGS, '-e', ECHO_SCRIPT], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  let socket: net.Socket | undefined;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no loopback hop measured in ${timeoutMs} ms`)), timeoutMs);
  });
  const probe = async (): Promise<LoopbackHop> => {
    const port = await new Promise<number>((resolve, reject) => {
      echo.once('error', reject);
      echo.once('exit', (code) => reject(new Error(`the echo process exited with ${code}`)));
      echo.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    });
    const connected = net.connect({ port, host: '127.0.0.1', noDelay: true });
    socket = connected;
    await new Promise<void>((resolve, reject) => {
      connected.once('connect', resolve);
      connected.once('error', reject);
    });
    const message = Buffer.alloc(bytes, 'x');
    const rtts = new Float64Array(messages);
    for (let i = 0; i < messages; i++) {
      let received = 0;
      const back = new Promise<void>((resolve) => {
        const onData = (d: Buffer): void => {
          received += d.length;
          if (received < bytes) return;
          connected.off('data', onData);
          resolve();
        };
        connected.on('data', onData);
      });
      const sent = process.hrtime.bigint();
      connected.write(message);
      await back;
      rtts[i] = Number(process.hrtime.bigint() - sent) / 1e3;
      await sleep(intervalMs);
    }
    rtts.sort();
    return {
      medianUs: percentileSorted(rtts, 50) / 2,
      meanUs: trimmedMean(rtts, 0.95) / 2,
      p90Us: percentileSorted(rtts, 90) / 2,
      samples: messages,
    };
  };
  try {
    return await Promise.race([probe(), timeout]);
  } finally {
    clearTimeout(timer);
    socket?.destroy();
    echo.kill();
  }
}
