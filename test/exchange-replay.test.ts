import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { WebSocket } from 'ws';
import { wallClock } from '../lib/clock';
import { ErrorCode } from '../lib/errors';
import type { ExchangeConfigInput } from '../agents/exchange/config';
import { startExchange, type ExchangeHandle } from '../agents/exchange/exchange';
import type { Json } from '../lib/json';
import { waitFor, within } from './feed.helpers';

const DATA = join(__dirname, '..', '..', 'shared', 'data');
const BTC_CAPTURE = join(DATA, 'binance-spot-btcusdt-20240808.gz');
const itWithCapture = existsSync(BTC_CAPTURE) ? it : it.skip;

interface TestClient {
  ws: WebSocket;
  messages: Json[];
  opened: Promise<void>;
}

const handles: ExchangeHandle[] = [];
const sockets: WebSocket[] = [];
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'feedpath-replay-'));
});

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(handles.splice(0).map((handle) => handle.stop()));
  rmSync(dir, { recursive: true, force: true });
});

async function exchange(config: ExchangeConfigInput): Promise<ExchangeHandle> {
  const handle = await startExchange(config);
  handles.push(handle);
  return handle;
}

function connect(url: string): TestClient {
  const ws = new WebSocket(url, { perMessageDeflate: false });
  sockets.push(ws);
  const client: TestClient = {
    ws,
    messages: [],
    opened: new Promise((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
  };
  ws.on('message', (data) => client.messages.push(JSON.parse((data as Buffer).toString()) as Json));
  return client;
}

/** A capture line holding a trade, E and T in ms, T one ms before E. */
function tradeLine(stampNs: bigint, id: number): string {
  const data = {
    e: 'trade',
    E: 1723161255343,
    s: 'BTCUSDT',
    t: id,
    p: '61837.63000000',
    q: '0.02',
    T: 1723161255342,
  };
  return `${stampNs} ${JSON.stringify({ stream: 'btcusdt@trade', data: { ...data, m: true, M: true } })}`;
}

function writeCapture(lines: string[]): string {
  const file = join(dir, 'capture.txt');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

const T0 = 1723161254000000000n;
const MS = 1_000_000n;

describe('exchange replay', () => {
  itWithCapture(
    'replays the real capture fast: every trade once in id order, E rebased, T at its recorded distance',
    async () => {
      const lines = gunzipSync(readFileSync(BTC_CAPTURE))
        .toString()
        .split('\n')
        .filter((line) => line !== '');
      const recorded = lines
        .filter((line) => line.includes('"stream":"btcusdt@trade"'))
        .map((line) => {
          const space = line.indexOf(' ');
          const { data } = JSON.parse(line.slice(space + 1)) as { data: { t: number; E: number; T: number } };
          return { stampNs: BigInt(line.slice(0, space)), ...data };
        });
      const speed = 2_000;
      const handle = await exchange({
        source: { kind: 'replay', file: BTC_CAPTURE, speed, waitForClients: 1 },
      });
      const beforeUs = wallClock().nowUs();
      const client = connect(`${handle.url}/ws/btcusdt@trade?timeUnit=MICROSECOND`);

      const summary = await within(handle.replayDone, 'the end of the replay');
      await waitFor(() => client.messages.length >= recorded.length, `${recorded.length} trades`, 10_000);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const afterUs = wallClock().nowUs();

      expect(summary).toMatchObject({ events: lines.length - 1, skipped: { nonStream: 1, malformed: 0 } });
      expect(client.messages.map((trade) => trade.t)).toEqual(recorded.map((trade) => trade.t));
      const outsideWindow = client.messages.filter(
        (trade) => (trade.E as number) < beforeUs || (trade.E as number) > afterUs,
      );
      expect(outsideWindow).toEqual([]);
      const lags = client.messages.map((trade) => (trade.E as number) - (trade.T as number));
      expect(lags).toEqual(recorded.map((trade) => (trade.E - trade.T) * 1000));
      // Paced, not dumped: the trades span at least the recorded span ÷ speed.
      const first = recorded[0] as (typeof recorded)[number];
      const last = recorded[recorded.length - 1] as (typeof recorded)[number];
      const pacedUs = Number(last.stampNs - first.stampNs) / 1e3 / speed - 1_000;
      const sentUs =
        (client.messages[client.messages.length - 1]?.E as number) - (client.messages[0]?.E as number);
      expect(sentUs).toBeGreaterThanOrEqual(pacedUs);
      // Still serving after the end: in-flight data may still be crossing the link emulators.
      await expect(
        within(connect(`${handle.url}/ws/btcusdt@trade`).opened, 'a new client'),
      ).resolves.toBeUndefined();
      expect(handle.replay).toMatchObject({ finished: true, events: lines.length - 1 });
    },
  );

  it('skips and counts garbage and non-stream lines, and sends the rest', async () => {
    const file = writeCapture([
      tradeLine(T0, 1),
      `${T0 + MS} {"lastUpdateId":50093239218,"bids":[],"asks":[]}`,
      `${T0 + 2n * MS} {"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1723161255400}}`,
      'garbage without a stamp',
      `${T0 + 3n * MS} {not json`,
      '{"stream":"btcusdt@trade","data":{}}',
      `${T0 + 4n * MS} {"stream":"btcusdt@trade","data":{"e":"trade","E":1723161255343,"s":"BTCUSDT"}}`,
      '',
      tradeLine(T0 + 5n * MS, 2),
    ]);
    const handle = await exchange({ source: { kind: 'replay', file, speed: 10, waitForClients: 1 } });
    const client = connect(`${handle.url}/stream?streams=btcusdt@trade`);

    const summary = await within(handle.replayDone, 'the end of the replay');
    await waitFor(() => client.messages.length >= 2, 'two trades');

    expect(summary).toMatchObject({ events: 2, skipped: { nonStream: 2, malformed: 4 } });
    expect(client.messages.map((message) => (message.data as Json).t)).toEqual([1, 2]);
    const nowMs = Date.now();
    for (const message of client.messages) {
      const data = message.data as Json;
      expect(data.E as number).toBeGreaterThan(nowMs - 5_000);
      expect(data.E as number).toBeLessThanOrEqual(nowMs);
      expect(data.T).toBe((data.E as number) - 1);
    }
  });

  it('paces lines at recorded time ÷ speed, sending lines due in the same ms together', async () => {
    const file = writeCapture([
      tradeLine(T0, 1),
      tradeLine(T0 + 200n * MS, 2),
      tradeLine(T0 + 200n * MS + 300_000n, 3),
      tradeLine(T0 + 600n * MS, 4),
    ]);
    const handle = await exchange({ source: { kind: 'replay', file, speed: 2, waitForClients: 1 } });
    const client = connect(`${handle.url}/ws/btcusdt@trade?timeUnit=MICROSECOND`);

    await within(handle.replayDone, 'the end of the replay');
    await waitFor(() => client.messages.length >= 4, 'four trades');

    const [e1, e2, e3, e4] = client.messages.map((trade) => trade.E as number) as [
      number,
      number,
      number,
      number,
    ];
    expect(e2 - e1).toBeGreaterThanOrEqual(99_000);
    expect(e3 - e2).toBeLessThan(1_000);
    expect(e4 - e1).toBeGreaterThanOrEqual(299_000);
    expect(e4 - e1).toBeLessThan(1_000_000);
  });

  it('starts when waitForClients clients are connected, startDelayMs later', async () => {
    const file = writeCapture([tradeLine(T0, 1), tradeLine(T0 + MS, 2)]);
    const handle = await exchange({
      source: { kind: 'replay', file, speed: 1, waitForClients: 2, startDelayMs: 100 },
    });
    const early = connect(`${handle.url}/ws/btcusdt@trade?timeUnit=MICROSECOND`);
    await early.opened;
    await new Promise((resolve) => setTimeout(resolve, 150));
    const startedEarly = handle.replay?.started;

    const late = connect(`${handle.url}/ws/btcusdt@trade?timeUnit=MICROSECOND`);
    await late.opened;
    const lateOpenUs = wallClock().nowUs();
    await within(handle.replayDone, 'the end of the replay');
    await waitFor(
      () => early.messages.length >= 2 && late.messages.length >= 2,
      'both trades on both clients',
    );

    expect(startedEarly).toBe(false);
    expect(early.messages).toEqual(late.messages);
    expect((late.messages[0]?.E as number) - lateOpenUs).toBeGreaterThanOrEqual(80_000);
  });

  itWithCapture('stops in the middle of a replay without waiting for the capture to end', async () => {
    const handle = await startExchange({ source: { kind: 'replay', file: BTC_CAPTURE, speed: 1 } });
    await new Promise((resolve) => setTimeout(resolve, 100));

    const stoppedAt = Date.now();
    const totals = await handle.stop();

    expect(Date.now() - stoppedAt).toBeLessThan(1_000);
    expect(totals.replay).toMatchObject({ started: true, finished: false });
  });

  it('fails with FP_BAD_CAPTURE naming a missing capture', async () => {
    const file = join(dir, 'no-such-capture.gz');

    await expect(startExchange({ source: { kind: 'replay', file } })).rejects.toMatchObject({
      code: ErrorCode.badCapture,
      message: expect.stringContaining(file),
    });
  });
});
