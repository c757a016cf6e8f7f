/** How exactly the link emulator adds its delay: timestamped messages through a link on loopback. */
import net, { type Socket } from 'node:net';
import { availableParallelism, loadavg } from 'node:os';
import { startLink, type LinkCounters } from '../agents/link/proxy';
import type { BenchFigure } from './figures';

export interface LinkDelayRun {
  delayMs: number;
  jitterMs: number;
  /** Messages per second, sent evenly (each stamped when written). */
  ratePerS: number;
  durationMs: number;
  /** Bytes per message, newline included. */
  messageBytes?: number;
  /** Measure the plain loopback path instead (no link), for comparison. */
  direct?: boolean;
  seed?: number;
}

export interface LinkDelayResult {
  /** One-way delay of each received message, ms: receive time − send time, one process clock. */
  samplesMs: number[];
  sent: number;
  /** Messages that arrived out of order or corrupted. */
  disordered: number;
  /** CPU time of this process (link, sender and sink together) over the wall time, %. */
  cpuPercent: number;
  /** The link's own counters at the end (absent for a direct run). */
  link?: LinkCounters;
}

/** After the last message is sent, wait this long beyond the largest plausible delay. */
const DRAIN_MARGIN_MS = 300;

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port));
  });
}

function connect(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(socket));
    socket.once('error', reject);
  });
}

/**
 * Sends `<seq> <send hrtime ns> <padding>\n` lines through a link (forward direction) to a sink in
 * this process and returns each message's one-way delay. Sender, link and sink share one event
 * loop, so this is a pessimistic setting: in a run the link is a process of its own.
 */
export async function measureLinkDelay(run: LinkDelayRun): Promise<LinkDelayResult> {
  const messageBytes = run.messageBytes ?? 64;
  const samplesMs: number[] = [];
  let expected = 0;
  let disordered = 0;
  const sinkSockets = new Set<Socket>();
  const sink = net.createServer({ noDelay: true }, (socket) => {
    sinkSockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sinkSockets.delete(socket));
    let pending = '';
    socket.setEncoding('latin1');
    socket.on('data', (text: string) => {
      const now = process.hrtime.bigint();
      pending += text;
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const [seq, stamp] = pending.slice(0, newline).split(' ');
        pending = pending.slice(newline + 1);
        newline = pending.indexOf('\n');
        if (Number(seq) !== expected || stamp === undefined) disordered += 1;
        expected = Number(seq) + 1;
        if (stamp !== undefined) samplesMs.push(Number(now - BigInt(stamp)) / 1e6);
      }
    });
  });
  const sinkPort = await listen(sink);
  const spec = { delayMs: run.delayMs, jitterMs: run.jitterMs };
  const link = run.direct
    ? undefined
    : await startLink({
        name: 'bench',
        target: { port: sinkPort },
        forward: spec,
        reverse: spec,
        seed: run.seed ?? 1,
      });
  const client = await connect(link?.port ?? sinkPort);
  client.on('error', () => undefined);

  const cpuStart = process.cpuUsage();
  const wallStart = process.hrtime.bigint();
  const periodNs = BigInt(Math.round(1e9 / run.ratePerS));
  const total = Math.round((run.ratePerS * run.durationMs) / 1000);
  let sent = 0;
  await new Promise<void>((resolve) => {
    // A 1 ms tick sends every message that is due, so the rate holds even when a tick is late.
    const tick = setInterval(() => {
      const now = process.hrtime.bigint();
      while (sent < total && wallStart + BigInt(sent) * periodNs <= now) {
        const head = `${sent} ${process.hrtime.bigint()} `;
        client.write(head.padEnd(messageBytes - 1, 'x') + '\n');
        sent += 1;
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  const waitMs = run.delayMs + 20 * run.jitterMs + DRAIN_MARGIN_MS;
  const deadline = Date.now() + waitMs;
  while (samplesMs.length < sent && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const cpu = process.cpuUsage(cpuStart);
  const wallUs = Number(process.hrtime.bigint() - wallStart) / 1000;

  client.destroy();
  const counters = await link?.stop();
  for (const socket of sinkSockets) socket.destroy();
  await new Promise((resolve) => sink.close(resolve));
  return {
    samplesMs,
    sent,
    disordered,
    cpuPercent: (100 * (cpu.user + cpu.system)) / wallUs,
    link: counters,
  };
}

/** The value at quantile `q` of ascending `sorted` (nearest rank). */
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] as number;
}

/** Median / p99 one-way delay through a 100 ms link at 1,000 msg/s, and the error against 100 ms. */
export async function benchLink(durationMs = 5_000): Promise<BenchFigure[]> {
  const delayMs = 100;
  const ratePerS = 1_000;
  const direct = await measureLinkDelay({
    delayMs: 0,
    jitterMs: 0,
    ratePerS,
    durationMs: 1_000,
    direct: true,
  });
  const through = await measureLinkDelay({ delayMs, jitterMs: 0, ratePerS, durationMs });
  const sorted = [...through.samplesMs].sort((a, b) => a - b);
  const directSorted = [...direct.samplesMs].sort((a, b) => a - b);
  const median = quantile(sorted, 0.5);
  const p99 = quantile(sorted, 0.99);
  const conditions = {
    delay_ms: delayMs,
    jitter_ms: 0,
    rate_msg_per_s: ratePerS,
    message_bytes: 64,
    duration_s: durationMs / 1000,
    sent: through.sent,
    received: through.samplesMs.length,
    disordered: through.disordered,
    setting: 'sender, link and sink in one process on loopback',
    // The tail depends on what else the machine runs: a preempted process releases late.
    cpus: availableParallelism(),
    load_avg_1m: Number(loadavg()[0]?.toFixed(2)),
  };
  const medianError = median - delayMs;
  return [
    { name: 'link.one_way_median', value: median, unit: 'ms', conditions },
    { name: 'link.one_way_p99', value: p99, unit: 'ms', conditions },
    {
      name: 'link.median_error',
      value: medianError,
      unit: 'ms',
      conditions,
      target: { text: '|median − 100 ms| ≤ 0.5 ms', met: Math.abs(medianError) <= 0.5 },
    },
    { name: 'link.p99_error', value: p99 - delayMs, unit: 'ms', conditions },
    {
      name: 'link.never_early',
      value: (sorted[0] ?? NaN) - delayMs,
      unit: 'ms',
      conditions: { ...conditions, what: 'smallest one-way delay − 100 ms' },
      target: { text: '≥ 0 (no message released before its due time)', met: (sorted[0] ?? -1) >= delayMs },
    },
    {
      name: 'link.direct_loopback_median',
      value: quantile(directSorted, 0.5),
      unit: 'ms',
      conditions: { ...conditions, duration_s: 1, delay_ms: 0, setting: 'same sender and sink, no link' },
    },
    { name: 'link.process_cpu', value: through.cpuPercent, unit: '%', conditions },
  ];
}
