/**
 * Synthetic results for the analysis benchmark: both paths' CSVs with a known latency distribution,
 * each row formatted by the receiver's own formatter (lib/samples.ts), with every column the
 * receiver writes: the connection ordinal, and a trade's price and quantity for the market context.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { CSV_HEADER, formatSampleRow, resultsCsvName, type Sample } from '../lib/samples';
import { createRandom, exponential, type Random } from '../lib/random';

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

/** Whole µs of an exponential delay with this mean. */
function exp(random: Random, mean: number): number {
  return Math.round(exponential(random, mean));
}

/** A 32-bit hash of an id (Knuth's multiplicative), for per-trade values both paths agree on. */
function hash(id: number): number {
  return Math.imul(id, 2654435761) >>> 0;
}

/** A trade's price and quantity as the exchange writes them: a slow swing around 64,000 plus ticks. */
function trade(id: number): { price: string; quantity: string } {
  const cents = 6_400_000 + Math.round(20_000 * Math.sin(id / 300_000)) + (hash(id) % 7) - 3;
  return { price: (cents / 100).toFixed(2), quantity: (0.001 + (hash(id + 1) % 500) / 1000).toFixed(3) };
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
  // The same trade has the same E, price and quantity on either path.
  const event = (id: number): Omit<Sample, 'forwarderNs' | 'receiverNs'> => ({
    id,
    stream: 'btcusdt@trade',
    symbol: 'btcusdt',
    exchangeTimeUs: E0_US + Math.floor(id / 30) * 1000 + (id % 30),
    firstId: undefined,
    connection: 1,
    ...trade(id),
  });
  const at = (eUs: number, afterUs: number): bigint => BigInt(eUs + afterUs) * 1000n;
  function* baseline(): Generator<string> {
    for (let id = 1; id <= rows; id++) {
      const e = event(id);
      const latencyUs = m.baselineBaseUs + exp(baselineRandom, m.baselineJitterUs);
      if (baselineLossEvery > 0 && id % baselineLossEvery === 0) continue;
      yield formatSampleRow({
        ...e,
        forwarderNs: undefined,
        receiverNs: at(e.exchangeTimeUs as number, latencyUs),
      });
    }
  }
  function* backbone(): Generator<string> {
    for (let id = 1; id <= rows; id++) {
      const e = event(id);
      const eUs = e.exchangeTimeUs as number;
      const toForwarderUs = m.exchangeForwarderBaseUs + exp(backboneRandom, m.exchangeForwarderJitterUs);
      const legUs = m.forwarderReceiverBaseUs + exp(backboneRandom, m.forwarderReceiverJitterUs);
      yield formatSampleRow({
        ...e,
        forwarderNs: at(eUs, toForwarderUs),
        receiverNs: at(eUs, toForwarderUs + legUs),
      });
    }
  }
  await Promise.all([
    writeRows(join(dir, resultsCsvName('baseline')), baseline()),
    writeRows(join(dir, resultsCsvName('backbone')), backbone()),
  ]);
}
