import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { openCapture, parseCaptureLine, type CaptureRecord } from '../lib/capture';
import { ErrorCode } from '../lib/errors';

const DATA = join(__dirname, '..', '..', 'shared', 'data');
const BTC_CAPTURE = join(DATA, 'binance-spot-btcusdt-20240808.gz');
const itWithCapture = existsSync(BTC_CAPTURE) ? it : it.skip;

const TRADE =
  '{"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT","t":3735683259,' +
  '"p":"61837.63000000","q":"0.02000000","T":1723161255342,"m":true,"M":true}}';
const BOOK_TICKER =
  '{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63000000",' +
  '"B":"3.78826000","a":"61837.64000000","A":"1.54698000"}}';
const SNAPSHOT = '{"lastUpdateId":50093239218,"bids":[["61837.63000000","3.78826000"]],"asks":[]}';
const LINES = [
  `1723161254087891268 ${BOOK_TICKER}`,
  `1723161254087896568 ${TRADE}`,
  `1723161254206652067 ${SNAPSHOT}`,
  'garbage',
  '',
  `1723161254300000000 {"stream":"btcusdt@trade","data":{"e":"trade"`,
];

let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'feedpath-capture-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function readAll(file: string): Promise<{ records: CaptureRecord[]; skipped: unknown; gzip: boolean }> {
  const reader = await openCapture(file);
  const records: CaptureRecord[] = [];
  for await (const record of reader) records.push(record);
  return { records, skipped: reader.skipped, gzip: reader.gzip };
}

describe('capture reader', () => {
  it('classifies lines: stream messages kept, a REST snapshot non-stream, garbage malformed, blank ignored', () => {
    const outcomes = LINES.map((line) => parseCaptureLine(line));

    expect(outcomes.map((outcome) => (outcome.ok ? outcome.record.kind : outcome.skip))).toEqual([
      'bookTicker',
      'trade',
      'nonStream',
      'malformed',
      'blank',
      'malformed',
    ]);
    const trade = outcomes[1];
    expect(trade?.ok && trade.record).toMatchObject({
      stampNs: 1723161254087896568n,
      stream: 'btcusdt@trade',
      data: { t: 3735683259, T: 1723161255342 },
    });
  });

  it('names the stream of an unwrapped message after its symbol and kind', () => {
    const outcome = parseCaptureLine(
      '1 {"e":"depthUpdate","E":1723161255208,"s":"BTCUSDT","U":50093239189,"u":50093239202,"b":[],"a":[]}',
    );

    expect(outcome.ok && outcome.record.stream).toBe('btcusdt@depth@100ms');
  });

  it('reads plain text and gzip alike, telling them apart by magic bytes, not by name', async () => {
    const text = `${LINES.join('\n')}\n`;
    const plainNamedGz = join(dir, 'plain.gz');
    const gzipNamedTxt = join(dir, 'compressed.txt');
    writeFileSync(plainNamedGz, text);
    writeFileSync(gzipNamedTxt, gzipSync(text));

    const plain = await readAll(plainNamedGz);
    const compressed = await readAll(gzipNamedTxt);

    expect(plain.gzip).toBe(false);
    expect(compressed.gzip).toBe(true);
    for (const result of [plain, compressed]) {
      expect(result.records.map((record) => record.stream)).toEqual(['btcusdt@bookTicker', 'btcusdt@trade']);
      expect(result.skipped).toEqual({ nonStream: 1, malformed: 2 });
    }
  });

  it('reads what a truncated gzip holds (a recorder that crashed)', async () => {
    const lines = Array.from({ length: 2_000 }, (_, i) => `${1723161254087896568n + BigInt(i)} ${TRADE}`);
    const whole = gzipSync(`${lines.join('\n')}\n`);
    const file = join(dir, 'truncated.gz');
    writeFileSync(file, whole.subarray(0, Math.floor(whole.length / 2)));

    const { records, skipped } = await readAll(file);

    expect(records.length).toBeGreaterThan(100);
    expect(records.length).toBeLessThan(2_000);
    expect(skipped).toMatchObject({ nonStream: 0 });
  });

  it('fails with FP_BAD_CAPTURE naming a missing file', async () => {
    const file = join(dir, 'missing.gz');

    await expect(openCapture(file)).rejects.toMatchObject({
      code: ErrorCode.badCapture,
      message: expect.stringContaining(file),
    });
  });

  it('fails with FP_BAD_CAPTURE naming a corrupt gzip while reading it', async () => {
    const file = join(dir, 'corrupt.gz');
    writeFileSync(file, Buffer.concat([Buffer.from([0x1f, 0x8b]), Buffer.from('not deflate at all')]));

    await expect(readAll(file)).rejects.toMatchObject({
      code: ErrorCode.badCapture,
      message: expect.stringContaining(file),
    });
  });

  itWithCapture('reads the real capture: every stream message, the REST snapshot skipped', async () => {
    const lines = gunzipSync(readFileSync(BTC_CAPTURE))
      .toString()
      .split('\n')
      .filter((line) => line !== '');

    const { records, skipped } = await readAll(BTC_CAPTURE);

    expect(records).toHaveLength(lines.length - 1);
    expect(skipped).toEqual({ nonStream: 1, malformed: 0 });
    const streams = new Set(records.map((record) => record.stream));
    expect([...streams].sort()).toEqual(['btcusdt@bookTicker', 'btcusdt@depth@100ms', 'btcusdt@trade']);
  });
});
