/**
 * The receiver's hot path: arrivals stamped first and recorded later in slices, with a
 * bounded queue; rows copied into byte chunks on their way to the CSV — and every sample kept,
 * in order, with the stamp it arrived with.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { MAX_QUEUED, PathRecorder } from '../agents/receiver/recorder';
import { CSV_HEADER, SampleWriter, formatSampleRow, type Sample } from '../lib/samples';
import { encodeRelayFrame } from '../lib/wire';
import { tempDir, waitFor } from './feed.helpers';

const E_US = 1_795_000_000_000_000;

function trade(id: number): Buffer {
  return Buffer.from(
    `{"e":"trade","E":${E_US + id},"s":"BTCUSDT","t":${id},"p":"1.0","q":"1.0","T":${E_US},"m":true,"M":true}`,
  );
}

async function rows(file: string): Promise<string[][]> {
  const lines = (await readFile(file, 'utf8')).split('\n').slice(1, -1);
  return lines.map((line) => line.split(','));
}

describe('path recorder', () => {
  async function recorder(path: 'baseline' | 'backbone'): Promise<{ recorder: PathRecorder; file: string }> {
    const file = join(await tempDir('recorder'), `${path}.csv`);
    return { recorder: new PathRecorder(path, await SampleWriter.create(file)), file };
  }

  it('records each arrival with the stamp it was given, in arrival order, once parsed later', async () => {
    const { recorder: r, file } = await recorder('baseline');
    const stamps = [5n, 7n, 11n].map((n) => BigInt(E_US) * 1000n + n * 1000n);

    stamps.forEach((stamp, i) => r.arrive(trade(i + 1), stamp));
    const parsedAtOnce = r.samples;
    await waitFor(() => r.samples === 3, 'the queue to be recorded');
    await r.writer.close();

    expect(parsedAtOnce).toBe(0);
    const table = await rows(file);
    expect(table.map((row) => row[0])).toEqual(['1', '2', '3']);
    expect(table.map((row) => row[3])).toEqual(stamps.map(String));
  });

  it('keeps relay frames their forwarder stamp and counts a malformed one', async () => {
    const { recorder: r, file } = await recorder('backbone');
    const forwarderNs = BigInt(E_US) * 1000n + 100_000n;

    r.arrive(Buffer.from(encodeRelayFrame(forwarderNs, trade(1).toString())), forwarderNs + 50_000n);
    r.arrive(Buffer.from('not a relay frame'), forwarderNs + 60_000n);
    r.drain();
    await r.writer.close();

    expect(r.malformed).toBe(1);
    const [row] = await rows(file);
    expect(row?.slice(0, 6)).toEqual([
      '1',
      String(Math.floor((E_US + 1) / 1000)),
      String(forwarderNs),
      String(forwarderNs + 50_000n),
      '0.149',
      '0.050',
    ]);
  });

  it('stays bounded when arrivals outrun it: the oldest is recorded first, nothing is lost', async () => {
    const { recorder: r, file } = await recorder('baseline');
    const count = MAX_QUEUED + 500;

    for (let id = 1; id <= count; id += 1) r.arrive(trade(id), BigInt(E_US + id) * 1000n);
    const recordedWithoutYielding = r.samples;
    r.drain();
    await r.writer.close();

    expect(recordedWithoutYielding).toBe(500);
    const table = await rows(file);
    expect(table.map((row) => Number(row[0]))).toEqual(Array.from({ length: count }, (_, i) => i + 1));
    expect(r.status()).toMatchObject({ samples: count, lost: 0, duplicates: 0 });
  });

  it('reports exact counts: status() records what is still queued', async () => {
    const { recorder: r } = await recorder('baseline');

    for (let id = 1; id <= 10; id += 1) r.arrive(trade(id), BigInt(E_US + id) * 1000n);

    expect(r.status()).toMatchObject({ samples: 10, lost: 0 });
    expect(r.messages).toBe(10);
    await r.writer.close();
  });
});

describe('sample writer', () => {
  const sample = (id: number, stream = 'btcusdt@trade'): Sample => ({
    id,
    stream,
    symbol: 'BTCUSDT',
    exchangeTimeUs: E_US + id,
    forwarderNs: id % 2 === 0 ? BigInt(E_US) * 1000n + BigInt(id) : undefined,
    receiverNs: BigInt(E_US + id) * 1000n + 123_456n,
    firstId: undefined,
  });

  it('writes every row, byte for byte, across many chunks', async () => {
    const file = join(await tempDir('writer'), 'rows.csv');
    const writer = await SampleWriter.create(file, { chunkBytes: 1_000 });
    const samples = Array.from({ length: 2_000 }, (_, i) => sample(i + 1));

    for (const s of samples) writer.append(s);
    await writer.close();

    expect(await readFile(file, 'utf8')).toBe(`${CSV_HEADER}\n${samples.map(formatSampleRow).join('')}`);
    expect(writer.rows).toBe(2_000);
  });

  it('writes a row longer than a chunk whole, in its place, and non-ASCII text as UTF-8', async () => {
    const file = join(await tempDir('writer-long'), 'rows.csv');
    const writer = await SampleWriter.create(file, { chunkBytes: 200 });
    const samples = [sample(1), sample(2, `s${'x'.repeat(300)}`), sample(3, 'ünïcode@trade'), sample(4)];

    for (const s of samples) writer.append(s);
    await writer.close();

    expect(await readFile(file, 'utf8')).toBe(`${CSV_HEADER}\n${samples.map(formatSampleRow).join('')}`);
  });

  it('gets rows to the file within the flush interval, before it is closed', async () => {
    const file = join(await tempDir('writer-interval'), 'rows.csv');
    const writer = await SampleWriter.create(file, { flushIntervalMs: 20 });

    writer.append(sample(1));
    const deadline = Date.now() + 2_000;
    let text = await readFile(file, 'utf8');
    while (text === `${CSV_HEADER}\n` && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      text = await readFile(file, 'utf8');
    }

    expect(text).toBe(`${CSV_HEADER}\n${formatSampleRow(sample(1))}`);
    await writer.close();
  });
});
