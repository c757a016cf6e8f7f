/** Helpers for the analysis tests: results folders with rows made by the receiver's own formatter. */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceSampler } from '../lib/resources';
import { CSV_HEADER, formatSampleRow, type Sample } from '../lib/samples';

export const E0_US = 1_723_100_000_000_000;

/** A trade received `latencyUs` after its event time; with `legUs`, relayed by the forwarder. */
export function trade(id: number, latencyUs: number, options: { legUs?: number; eUs?: number } = {}): Sample {
  const exchangeTimeUs = options.eUs ?? E0_US + id * 1000;
  const receiverNs = BigInt(exchangeTimeUs + latencyUs) * 1000n;
  return {
    id,
    stream: 'btcusdt@trade',
    symbol: 'btcusdt',
    exchangeTimeUs,
    forwarderNs: options.legUs === undefined ? undefined : receiverNs - BigInt(options.legUs) * 1000n,
    receiverNs,
    firstId: undefined,
  };
}

export function csv(samples: Sample[]): string {
  return `${CSV_HEADER}\n${samples.map(formatSampleRow).join('')}`;
}

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'feedpath-analysis-'));
}

export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

/** Deterministic uniform [0, 1) source for test data (mulberry32), independent of lib/stats. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal by Box–Muller from a uniform source. */
export function boxMuller(uniform: () => number): () => number {
  return () => {
    const u = 1 - uniform();
    const v = uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  };
}

/**
 * `metrics/<agent>.json` as an agent writes it: the real ResourceSampler, with chrony's answer
 * given (`clockBoundMs`) instead of asked for. Returns the file's text.
 */
export async function agentMetricsJson(agent: string, clockBoundMs: number | null): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'feedpath-metrics-'));
  try {
    let sampled: () => void = () => undefined;
    const twoSamples = new Promise<void>((resolve) => (sampled = resolve));
    let samples = 0;
    const sampler = await ResourceSampler.start({
      agent,
      dir,
      counters: () => ({ messages: 0 }),
      clockErrorBound: () => Promise.resolve(clockBoundMs),
      intervalMs: 10,
      onSample: () => (samples += 1) >= 2 && sampled(),
    });
    // Real samples, so the summary has figures (CPU, RSS) as an agent's would.
    await twoSamples;
    await sampler.stop();
    return await readFile(join(dir, 'metrics', `${agent}.json`), 'utf8');
  } finally {
    await removeDir(dir);
  }
}
