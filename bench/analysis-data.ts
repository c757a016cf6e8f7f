/**
 * Synthetic results for the analysis benchmark: both paths' CSVs in the receiver's format, with a
 * known latency distribution, written fast (string arithmetic, no BigInt per row).
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { CSV_HEADER, resultsCsvName } from '../lib/samples';
import { createRandom, type Random } from '../lib/random';

export interface SyntheticRunOptions {
  rows: number;
  seed?: number;
  /** Drop one baseline event in this many (an id gap), 0 for none. */
  baselineLossEvery?: number;
}

/** Model (µs): E → receiver direct = 114 ms + Exp(4 ms); E → forwarder = 2 ms + Exp(0.3 ms); forwarder → receiver = 113 ms + Exp(0.5 ms). */
export const SYNTHETIC_MODEL = {
  baselineBaseUs: 114_000,
  baselineJitterUs: 4_000,
  exchangeForwarderBaseUs: 2_000,
  exchangeForwarderJitterUs: 300,
  forwarderReceiverBaseUs: 113_000,
  forwarderReceiverJitterUs: 500,
};

const E0_US = 1_723_100_000_000_000;

function exp(random: Random, mean: number): number {
  return Math.round(-Math.log(1 - random()) * mean);
}

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** An epoch time in ns, as digits, from a time in µs plus extra ns (exact, no BigInt). */
function nsDigits(us: number, extraNs: number): string {
  const second = Math.floor(us / 1e6);
  const nanos = (us - second * 1e6) * 1000 + extraNs;
  const carry = Math.floor(nanos / 1e9);
  return `${second + carry}${pad(nanos - carry * 1e9, 9)}`;
}

function msText(us: number): string {
  const whole = Math.floor(us / 1000);
  return `${whole}.${pad(us - whole * 1000, 3)}`;
}

async function writeRows(file: string, rows: Iterable<string>): Promise<void> {
  const out = createWriteStream(file);
  out.write(`${CSV_HEADER}\n`);
  let batch: string[] = [];
  for (const row of rows) {
    batch.push(row);
    if (batch.length === 20_000) {
      if (!out.write(batch.join(''))) await once(out, 'drain');
      batch = [];
    }
  }
  out.write(batch.join(''));
  out.end();
  await once(out, 'finish');
}

/** Writes baseline-results.csv and backbone-results.csv for the same `rows` trades into `dir`. */
export async function writeSyntheticRun(dir: string, options: SyntheticRunOptions): Promise<void> {
  const { rows, seed = 1, baselineLossEvery = 0 } = options;
  const m = SYNTHETIC_MODEL;
  const baselineRandom = createRandom(seed);
  const backboneRandom = createRandom(seed + 1);
  function* baseline(): Generator<string> {
    for (let id = 1; id <= rows; id++) {
      const eUs = E0_US + Math.floor(id / 30) * 1000 + (id % 30);
      const latencyUs = m.baselineBaseUs + exp(baselineRandom, m.baselineJitterUs);
      if (baselineLossEvery > 0 && id % baselineLossEvery === 0) continue;
      yield `${id},${Math.floor(eUs / 1000)},,${nsDigits(eUs, latencyUs * 1000)},${msText(latencyUs)},,btcusdt@trade,btcusdt,${eUs},\n`;
    }
  }
  function* backbone(): Generator<string> {
    for (let id = 1; id <= rows; id++) {
      const eUs = E0_US + Math.floor(id / 30) * 1000 + (id % 30);
      const toForwarderUs = m.exchangeForwarderBaseUs + exp(backboneRandom, m.exchangeForwarderJitterUs);
      const legUs = m.forwarderReceiverBaseUs + exp(backboneRandom, m.forwarderReceiverJitterUs);
      yield `${id},${Math.floor(eUs / 1000)},${nsDigits(eUs, toForwarderUs * 1000)},${nsDigits(eUs, (toForwarderUs + legUs) * 1000)},${msText(toForwarderUs + legUs)},${msText(legUs)},btcusdt@trade,btcusdt,${eUs},\n`;
    }
  }
  await Promise.all([
    writeRows(join(dir, resultsCsvName('baseline')), baseline()),
    writeRows(join(dir, resultsCsvName('backbone')), backbone()),
  ]);
}
