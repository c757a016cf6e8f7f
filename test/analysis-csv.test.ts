import { join } from 'node:path';
import { ArrivalEpoch, analyzePathInStore, readPathColumns, type PathColumns } from '../lib/analysis';
import { ErrorCode, FeedpathError } from '../lib/errors';
import { CSV_HEADER, SEED_COLUMNS } from '../lib/samples';
import { LocalFolderStore } from '../lib/store';
import { csv, removeDir, tempDir, trade, writeFiles } from './analysis-fixtures';

async function read(text: string, options: { chunk?: number; market?: boolean } = {}): Promise<PathColumns> {
  const bytes = Buffer.from(text);
  const size = options.chunk ?? bytes.length;
  async function* chunks() {
    for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
  }
  return readPathColumns(chunks(), 'dir/baseline-results.csv', {
    epoch: new ArrivalEpoch(),
    market: options.market,
  });
}

async function readError(text: string): Promise<FeedpathError> {
  try {
    await read(text);
  } catch (error) {
    return error as FeedpathError;
  }
  throw new Error('expected the file to be rejected');
}

const SEED_HEADER = SEED_COLUMNS.join(',');

describe('results CSV reader', () => {
  it('reads the same columns whatever the chunk boundaries (lines split across chunks, CRLF)', async () => {
    const text = csv([trade(1, 100_000), trade(2, 101_500, { legUs: 90_000 }), trade(3, 99_999)]).replace(
      /\n/g,
      '\r\n',
    );

    const whole = await read(text);
    const split = await read(text, { chunk: 7 });

    expect(whole.rows).toBe(3);
    expect(Array.from(whole.e2eMs)).toEqual([100, 101.5, 99.999]);
    expect(Array.from(split.e2eMs)).toEqual(Array.from(whole.e2eMs));
    expect(Array.from(split.seq)).toEqual([1, 2, 3]);
    expect(Array.from(split.legMs ?? [])).toEqual([NaN, 90, NaN]);
    expect(split.skipped).toBe(0);
  });

  it('keeps 19-digit ns arrival times exact (relative to a shared epoch second)', async () => {
    const header = SEED_HEADER;
    const text = `${header}\n1,1723100000000,,1723100000123456789,123.456,\n2,1723100000000,,1723100000123456790,123.457,\n`;

    const columns = await read(text);

    expect(columns.arrivalNs[1]! - columns.arrivalNs[0]!).toBe(1);
    expect(columns.arrivalNs[0]).toBe(123_456_789);
  });

  it('measures exchange → forwarder from tokyo_time and the µs event time', async () => {
    const columns = await read(csv([trade(1, 115_000, { legUs: 113_000 })]));

    expect(Array.from(columns.exchangeToForwarderMs ?? [])).toEqual([2]);
  });

  it('reads the connection column as the receiver writes it (0 where a row has none)', async () => {
    const rows = [trade(1, 100_000), trade(2, 100_000), trade(3, 100_000)];
    const text = csv([{ ...rows[0]!, connection: 1 }, rows[1]!, { ...rows[2]!, connection: 2 }]);

    const columns = await read(text);

    expect(CSV_HEADER.split(',').slice(-3)).toEqual(['connection', 'price', 'quantity']);
    expect(columns.connection).toBeInstanceOf(Uint16Array);
    expect(Array.from(columns.connection ?? [])).toEqual([1, 0, 2]);
    expect(columns.dataErrors.total).toBe(0);
  });

  it('reads a file written before the connection column (no column: connection null)', async () => {
    const old = CSV_HEADER.replace(/,connection,price,quantity$/, '');
    const text = csv([trade(1, 100_000), trade(2, 100_500)])
      .split('\n')
      .map((line, i) => (i === 0 ? old : line.replace(/,,,$/, '')))
      .join('\n');

    const columns = await read(text);

    expect(text.split('\n')[0]).not.toContain('connection');
    expect(columns.rows).toBe(2);
    expect(columns.connection).toBeNull();
    expect(Array.from(columns.e2eMs)).toEqual([100, 100.5]);
    expect(columns.problems).toEqual([]);
  });

  it('skips the market columns when told to, and keeps every other column', async () => {
    const text = csv([{ ...trade(1, 100_000), price: '64000.10', quantity: '0.5' }]);

    const withMarket = await read(text);
    const without = await read(text, { market: false });

    expect(Array.from(withMarket.price ?? [])).toEqual([64000.1]);
    expect(withMarket.eventUs).not.toBeNull();
    expect([without.price, without.quantity, without.eventUs]).toEqual([null, null, null]);
    expect(Array.from(without.e2eMs)).toEqual(Array.from(withMarket.e2eMs));
    expect(Array.from(without.arrivalNs)).toEqual(Array.from(withMarket.arrivalNs));
  });

  it('flags a connection cell that is not a whole number as unreadable', async () => {
    const text = csv([{ ...trade(1, 100_000), connection: 1 }]).replace(/,1,,\n$/, ',x,,\n');

    const columns = await read(text);

    expect(columns.problemCounts).toEqual({ 'bad connection': 1 });
  });

  it('rejects an empty file with FP_BAD_RESULTS naming it', async () => {
    const error = await readError('');
    expect(error.code).toBe(ErrorCode.badResults);
    expect(error.message).toContain('dir/baseline-results.csv is empty');
  });

  it("rejects a header that is not the seed's, naming file and line", async () => {
    const error = await readError('id,time,latency\n1,2,3\n');
    expect(error.code).toBe(ErrorCode.badResults);
    expect(error.message).toMatch(/dir\/baseline-results\.csv:1: header is not the seed's/);
  });

  it('flags bad rows as data errors naming file and line, keeps their ids, skips rows without one', async () => {
    const rows = [
      '1,1723100000000,,1723100000100000000,100.000,', // line 2: good
      '2,1723100000001,,1723100000101000000,abc,', // line 3: non-number
      '3,1723100000002,,1723100000102000000,-5.000,', // line 4: negative latency
      '4,1723100000003,,1723100000103000000,99999999.000,', // line 5: absurd latency
      'x5,1723100000004,,1723100000104000000,100.000,', // line 6: bad id
      '6,1723100000005', // line 7: too few columns
      '7,1723100000006,,1723100000106000000,100.000,', // line 8: good
    ];

    const columns = await read(`${SEED_HEADER}\n${rows.join('\n')}\n`);

    // Rows with a readable id stay (flagged: in no statistic, but their events were recorded).
    expect(columns.rows).toBe(6);
    expect(Array.from(columns.seq)).toEqual([1, 2, 3, 4, 6, 7]);
    expect(Array.from(columns.flags)).toEqual([0, 1, 2, 2, 1, 0]);
    expect(columns.skipped).toBe(1);
    expect(columns.unreadableAt).toEqual([4]);
    expect(columns.dataErrors.counts).toEqual({
      unreadable: { count: 3, lines: [3, 6, 7] },
      'non-physical': { count: 2, lines: [4, 5] },
    });
    expect(columns.problems.map((p) => p.message)).toEqual([
      'dir/baseline-results.csv:3: end_to_end_latency_ms "abc" is not a number',
      'dir/baseline-results.csv:4: negative end_to_end_latency_ms -5',
      'dir/baseline-results.csv:5: absurd end_to_end_latency_ms 99999999 (more than 3600000 ms)',
      'dir/baseline-results.csv:6: sequence_id "x5" is not a whole number',
      'dir/baseline-results.csv:7: 2 column(s), expected at least 6',
    ]);
    expect(columns.problemCounts).toEqual({
      'bad latency': 1,
      'implausible latency': 2,
      'bad sequence_id': 1,
      'too few columns': 1,
    });
  });

  it('reads a seed-format CSV (six columns, no stream) as one stream of assumed trade ids', async () => {
    const text = `${SEED_HEADER}\n10,1723100000000,,1723100000114000000,114.000,\n12,1723100000001,,1723100000115000000,114.000,\n`;

    const columns = await read(text);

    expect(columns.hasStreamColumn).toBe(false);
    expect(columns.groups).toEqual([
      { key: 'trade:', kind: 'trade', kindAssumed: true, symbol: '', streams: [''] },
    ]);
  });
});

describe('per-path analysis', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await removeDir(dir);
  });

  async function analyze(text: string, streamKind?: 'bookTicker') {
    await writeFiles(dir, { 'baseline-results.csv': text });
    return analyzePathInStore(new LocalFolderStore(dir), '', 'baseline', { streamKind });
  }

  it('counts loss from trade ids after sorting them (reordering and duplicates are not loss)', async () => {
    const samples = [trade(1, 1000), trade(3, 1000), trade(2, 1000), trade(3, 1000), trade(6, 1000)];

    const analysis = await analyze(csv(samples));

    expect(analysis?.summary.events_lost).toBe(2); // 4 and 5
    expect(analysis?.summary.duplicate_events).toBe(1);
    // sample_count is the rows that enter the statistics: the second 3 is a data error.
    expect(analysis?.summary.sample_count).toBe(4);
    expect(analysis?.summary.data_errors).toBe(1);
  });

  it('reports bookTicker loss as not measurable (null, never 0)', async () => {
    const rows = [1, 5, 9].map(
      (u, i) => `${u},,,${1723100000000000000n + BigInt(i)},,,btcusdt@bookTicker,btcusdt,,`,
    );

    const analysis = await analyze(`${CSV_HEADER}\n${rows.join('\n')}\n`);

    expect(analysis?.summary.events_lost).toBeNull();
    expect(analysis?.summary.loss_measurable).toBe(false);
    expect(analysis?.summary.avg_latency_ms).toBeNull();
    expect(analysis?.summary.sample_count).toBe(3);
  });

  it('uses depth continuity (U = previous u + 1) from first_update_id', async () => {
    const rows = [
      [10, 1],
      [20, 11],
      [30, 25], // gap: 21..24 missing → one lost message
      [40, 31],
    ].map(
      ([u, U], i) =>
        `${u},1723100000000,,${1723100000100000000n + BigInt(i)},100.000,,btcusdt@depth@100ms,btcusdt,1723100000000000,${U}`,
    );

    const analysis = await analyze(`${CSV_HEADER}\n${rows.join('\n')}\n`);

    expect(analysis?.summary.events_lost).toBe(1);
  });

  it('lets the caller say what a seed-format file holds (bookTicker: loss not measurable)', async () => {
    const text = `${SEED_HEADER}\n10,,,1723100000114000000,,\n12,,,1723100000115000000,,\n`;

    const analysis = await analyze(text, 'bookTicker');

    expect(analysis?.summary.events_lost).toBeNull();
  });

  it('returns null for a path whose file does not exist', async () => {
    const analysis = await analyzePathInStore(new LocalFolderStore(join(dir, 'nope')), '', 'backbone');
    expect(analysis).toBeNull();
  });
});
