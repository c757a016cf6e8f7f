import { WebSocket } from 'ws';
import { wallClock } from '../lib/clock';
import { ErrorCode } from '../lib/errors';
import type { ExchangeConfigInput } from '../agents/exchange/config';
import { startExchange, type ExchangeHandle } from '../agents/exchange/exchange';
import { SyntheticMarket } from '../agents/exchange/synthetic';
import { syntheticSourceSchema } from '../agents/exchange/config';
import type { Json } from '../lib/json';
import { waitFor, within } from './feed.helpers';

interface TestClient {
  ws: WebSocket;
  messages: Buffer[];
  pings: number[];
  opened: Promise<number>;
  closed: Promise<{ code: number; at: number }>;
}

const handles: ExchangeHandle[] = [];
const sockets: WebSocket[] = [];

afterEach(async () => {
  for (const ws of sockets.splice(0)) ws.terminate();
  await Promise.all(handles.splice(0).map((handle) => handle.stop()));
});

async function exchange(config: ExchangeConfigInput): Promise<ExchangeHandle> {
  const handle = await startExchange(config);
  handles.push(handle);
  return handle;
}

function connect(url: string, options: { autoPong?: boolean } = {}): TestClient {
  const ws = new WebSocket(url, { perMessageDeflate: false, autoPong: options.autoPong ?? true });
  sockets.push(ws);
  const client: TestClient = {
    ws,
    messages: [],
    pings: [],
    opened: new Promise((resolve, reject) => {
      ws.once('open', () => resolve(Date.now()));
      ws.once('error', reject);
    }),
    closed: new Promise((resolve) => ws.once('close', (code) => resolve({ code, at: Date.now() }))),
  };
  ws.on('message', (data) => client.messages.push(data as Buffer));
  ws.on('ping', () => client.pings.push(Date.now()));
  return client;
}

function parsed(client: TestClient): Json[] {
  return client.messages.map((message) => JSON.parse(message.toString()) as Json);
}

/** A busy synthetic market, so tests see every kind within a fraction of a second. */
const BUSY: ExchangeConfigInput['source'] = {
  kind: 'synthetic',
  tradesPerSecond: 300,
  bookTickerPerSecond: 300,
  burstSize: 0,
};

const TRADE_KEYS = ['e', 'E', 's', 't', 'p', 'q', 'T', 'm', 'M'];
const AGG_TRADE_KEYS = ['e', 'E', 's', 'a', 'p', 'q', 'f', 'l', 'T', 'm', 'M'];
const BOOK_TICKER_KEYS = ['u', 's', 'b', 'B', 'a', 'A'];
const DEPTH_KEYS = ['e', 'E', 's', 'U', 'u', 'b', 'a'];

describe('exchange', () => {
  it('serves a raw stream at /ws/<stream> with the fields of a Binance trade', async () => {
    const handle = await exchange({ source: BUSY });
    const client = connect(`${handle.url}/ws/btcusdt@trade`);

    await waitFor(() => client.messages.length >= 5, 'five trades');

    for (const trade of parsed(client)) {
      expect(Object.keys(trade)).toEqual(TRADE_KEYS);
      expect(trade).toMatchObject({ e: 'trade', s: 'BTCUSDT', M: true });
      expect(trade.p).toMatch(/^\d+\.\d{8}$/);
      expect(trade.q).toMatch(/^\d+\.\d{8}$/);
    }
  });

  it('wraps combined streams as {"stream","data"} with each kind in Binance shape', async () => {
    const handle = await exchange({ source: BUSY });
    const streams = ['btcusdt@trade', 'btcusdt@aggTrade', 'btcusdt@bookTicker', 'btcusdt@depth@100ms'];
    const client = connect(`${handle.url}/stream?streams=${streams.join('/')}`);

    await waitFor(
      () => parsed(client).filter((m) => m.stream === 'btcusdt@depth@100ms').length >= 4,
      'depth',
    );

    const byStream = new Map<string, Json[]>();
    for (const message of parsed(client)) {
      expect(Object.keys(message)).toEqual(['stream', 'data']);
      const list = byStream.get(message.stream as string) ?? [];
      list.push(message.data as Json);
      byStream.set(message.stream as string, list);
    }
    expect([...byStream.keys()].sort()).toEqual([...streams].sort());
    const keysOf = (stream: string): string[][] =>
      (byStream.get(stream) ?? []).map((data) => Object.keys(data));
    expect(new Set(keysOf('btcusdt@trade').map(String))).toEqual(new Set([String(TRADE_KEYS)]));
    expect(new Set(keysOf('btcusdt@aggTrade').map(String))).toEqual(new Set([String(AGG_TRADE_KEYS)]));
    expect(new Set(keysOf('btcusdt@bookTicker').map(String))).toEqual(new Set([String(BOOK_TICKER_KEYS)]));
    expect(new Set(keysOf('btcusdt@depth@100ms').map(String))).toEqual(new Set([String(DEPTH_KEYS)]));
    const depth = byStream.get('btcusdt@depth@100ms') as Json[];
    for (let i = 1; i < depth.length; i += 1) {
      expect(depth[i]?.U).toBe((depth[i - 1]?.u as number) + 1);
    }
  });

  it('stamps E and T in µs with timeUnit=MICROSECOND and in ms without, from one instant', async () => {
    const handle = await exchange({ source: BUSY });
    const beforeUs = wallClock().nowUs();
    const micro = connect(`${handle.url}/ws/btcusdt@trade?timeUnit=MICROSECOND`);
    const milli = connect(`${handle.url}/ws/btcusdt@trade`);

    await waitFor(() => micro.messages.length >= 20 && milli.messages.length >= 20, 'trades on both');

    const afterUs = wallClock().nowUs();
    const msById = new Map(parsed(milli).map((trade) => [trade.t, trade]));
    let compared = 0;
    for (const trade of parsed(micro)) {
      const other = msById.get(trade.t);
      if (other === undefined) continue;
      compared += 1;
      const [eUs, tUs] = [trade.E as number, trade.T as number];
      expect(eUs).toBeGreaterThanOrEqual(beforeUs);
      expect(eUs).toBeLessThanOrEqual(afterUs);
      expect(tUs).toBeLessThanOrEqual(eUs);
      expect(other.E).toBe(Math.floor(eUs / 1000));
      expect(other.T).toBe(Math.floor(tUs / 1000));
    }
    expect(compared).toBeGreaterThanOrEqual(10);
  });

  it('keeps trade and aggTrade ids contiguous across sweeps, each sweep sharing one trade time', async () => {
    const handle = await exchange({
      source: { kind: 'synthetic', tradesPerSecond: 100, burstSize: 300, burstIntervalMs: 150, seed: 3 },
    });
    const client = connect(`${handle.url}/stream?streams=btcusdt@trade/btcusdt@aggTrade`);

    await waitFor(() => client.messages.length >= 1_500, '1500 trades and aggTrades');

    const messages = parsed(client);
    const trades = messages.filter((m) => m.stream === 'btcusdt@trade').map((m) => m.data as Json);
    const aggTrades = messages.filter((m) => m.stream === 'btcusdt@aggTrade').map((m) => m.data as Json);
    for (let i = 1; i < trades.length; i += 1) expect(trades[i]?.t).toBe((trades[i - 1]?.t as number) + 1);
    for (let i = 1; i < aggTrades.length; i += 1) {
      expect(aggTrades[i]?.a).toBe((aggTrades[i - 1]?.a as number) + 1);
      expect(aggTrades[i]?.f).toBe((aggTrades[i - 1]?.l as number) + 1);
    }
    const perTradeTime = new Map<number, number>();
    for (const trade of trades)
      perTradeTime.set(trade.T as number, (perTradeTime.get(trade.T as number) ?? 0) + 1);
    expect(Math.max(...perTradeTime.values())).toBeGreaterThanOrEqual(300);
  });

  it('sends a sweep of hundreds of trades in one ms to every client as identical bytes', async () => {
    const handle = await exchange({
      source: {
        kind: 'synthetic',
        tradesPerSecond: 0,
        bookTickerPerSecond: 0,
        burstSize: 300,
        burstIntervalMs: 100,
      },
    });
    const clients = [1, 2, 3].map(() => connect(`${handle.url}/ws/btcusdt@trade?timeUnit=MICROSECOND`));

    await waitFor(
      () => clients.every((client) => client.messages.length >= 900),
      'three sweeps on every client',
    );

    // A sweep is published in one synchronous loop: a client has all of it or none of it.
    const [first, ...others] = clients.map((client) => client.messages);
    const sweeps = new Map<number, number>();
    for (const trade of (first as Buffer[]).map((m) => JSON.parse(m.toString()) as Json)) {
      sweeps.set(trade.T as number, (sweeps.get(trade.T as number) ?? 0) + 1);
    }
    // Every trade came in a sweep of exactly 300 with one trade time: a sweep is sent whole. The
    // newest sweep may still be arriving when the messages are read (TCP delivers it in pieces).
    const newest = Math.max(...sweeps.keys());
    const complete = [...sweeps].filter(([tradeTime]) => tradeTime !== newest).map(([, count]) => count);
    expect(complete.length).toBeGreaterThanOrEqual(2);
    expect(complete.every((count) => count === 300)).toBe(true);
    const byId = (messages: Buffer[]): Map<number, Buffer> =>
      new Map(messages.map((m) => [(JSON.parse(m.toString()) as Json).t as number, m]));
    const firstById = byId(first as Buffer[]);
    let compared = 0;
    for (const other of others) {
      for (const [id, bytes] of byId(other)) {
        const mine = firstById.get(id);
        if (mine === undefined) continue;
        expect(bytes.equals(mine)).toBe(true);
        compared += 1;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(2 * 600);
  });

  it('pings every pingIntervalMs and terminates a client that does not answer within pongTimeoutMs', async () => {
    const handle = await exchange({
      pingIntervalMs: 100,
      pongTimeoutMs: 300,
      source: { kind: 'synthetic', tradesPerSecond: 0, bookTickerPerSecond: 0, burstSize: 0 },
    });
    const answering = connect(`${handle.url}/ws/btcusdt@trade`);
    const silent = connect(`${handle.url}/ws/btcusdt@trade`, { autoPong: false });
    // Unsolicited pongs (not copying a ping's payload) do not keep a connection alive.
    const wrongPong = connect(`${handle.url}/ws/btcusdt@trade`, { autoPong: false });
    wrongPong.ws.on('ping', () => wrongPong.ws.pong('unsolicited'));

    const [silentClosed, wrongClosed] = await within(
      Promise.all([silent.closed, wrongPong.closed]),
      'the silent clients terminated',
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    expect(silent.pings.length).toBeGreaterThanOrEqual(2);
    expect(silentClosed.code).toBe(1006);
    expect(silentClosed.at - (silent.pings[0] as number)).toBeGreaterThanOrEqual(250);
    expect(wrongClosed.code).toBe(1006);
    expect(answering.ws.readyState).toBe(WebSocket.OPEN);
    expect(answering.pings.length).toBeGreaterThanOrEqual(4);
    expect(handle.counters.pongTimeouts).toBe(2);
  });

  it('sends serverShutdown shutdownNoticeMs before closing a connection at maxConnectionMs', async () => {
    const handle = await exchange({
      maxConnectionMs: 700,
      shutdownNoticeMs: 350,
      source: { kind: 'synthetic', tradesPerSecond: 0, bookTickerPerSecond: 0, burstSize: 0 },
    });
    const raw = connect(`${handle.url}/ws/btcusdt@trade`);
    const combined = connect(`${handle.url}/stream?streams=btcusdt@trade&timeUnit=MICROSECOND`);
    const shutdownAt: number[] = [];
    for (const client of [raw, combined]) client.ws.on('message', () => shutdownAt.push(Date.now()));
    const [openedAt] = await Promise.all([raw.opened, combined.opened]);

    const [rawClosed, combinedClosed] = await within(
      Promise.all([raw.closed, combined.closed]),
      'the lifetime close',
    );

    const [rawMessage] = parsed(raw);
    const [combinedMessage] = parsed(combined);
    expect(raw.messages).toHaveLength(1);
    expect(Object.keys(rawMessage as Json)).toEqual(['e', 'E']);
    expect(rawMessage?.e).toBe('serverShutdown');
    expect(rawMessage?.E as number).toBeLessThan(1e14);
    expect(combined.messages).toHaveLength(1);
    expect(combinedMessage).toMatchObject({ stream: '!serverShutdown', data: { e: 'serverShutdown' } });
    expect((combinedMessage?.data as Json).E as number).toBeGreaterThan(1e15);
    for (const at of shutdownAt) expect(at - (openedAt as number)).toBeGreaterThanOrEqual(300);
    for (const closed of [rawClosed, combinedClosed]) {
      expect(closed.code).toBe(1001);
      expect(closed.at - Math.max(...shutdownAt)).toBeGreaterThanOrEqual(250);
    }
    expect(handle.counters.lifetimeCloses).toBe(2);
  });

  it('refuses an unknown path or stream with HTTP 400 and a message', async () => {
    const handle = await exchange({ source: BUSY });
    const paths = ['/', '/ws/', '/ws/BTCUSDT@trade', '/ws/btcusdt@kline_1m', '/stream', '/stream?streams='];

    const answers = await Promise.all(
      paths.map(
        (path) =>
          new Promise<{ status: number | undefined; body: string }>((resolve) => {
            const ws = new WebSocket(`${handle.url}${path}`, { perMessageDeflate: false });
            sockets.push(ws);
            ws.on('error', () => undefined);
            ws.on('unexpected-response', (_request, response) => {
              let body = '';
              response.on('data', (chunk: Buffer) => (body += chunk.toString()));
              response.on('end', () => resolve({ status: response.statusCode, body }));
            });
            ws.on('open', () => resolve({ status: 101, body: '' }));
          }),
      ),
    );

    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(answer.body).toMatch(/stream|path/);
    }
    expect(answers[2]?.body).toContain('BTCUSDT@trade');
    expect(handle.counters.rejected).toBe(paths.length);
  });

  it('fails with FP_PORT_IN_USE when the port is taken', async () => {
    const first = await exchange({ source: BUSY });

    const second = startExchange({ port: first.port });

    await expect(second).rejects.toMatchObject({
      code: ErrorCode.portInUse,
      message: `port ${first.port} on 127.0.0.1 is already in use: stop what holds it or choose another port`,
    });
  });

  it('rejects a bad configuration with FP_BAD_CONFIG naming the field', async () => {
    await expect(
      startExchange({ source: { kind: 'replay', file: 'x', speeed: 2 } as never }),
    ).rejects.toMatchObject({
      code: ErrorCode.badConfig,
      message: expect.stringContaining('speeed'),
    });
    await expect(startExchange({ maxConnectionMs: 1000, shutdownNoticeMs: 1000 })).rejects.toMatchObject({
      code: ErrorCode.badConfig,
      message: expect.stringContaining('shutdownNoticeMs'),
    });
  });
});

describe('synthetic market', () => {
  const source = (seed: number) =>
    syntheticSourceSchema.parse({ kind: 'synthetic', seed, symbols: ['btcusdt', 'ethusdt'] });
  const take = (market: SyntheticMarket, n: number) => Array.from({ length: n }, () => market.next());

  it('gives the same events for the same seed, and different ones for another', () => {
    const a = JSON.stringify(take(new SyntheticMarket(source(42)), 2_000));
    const b = JSON.stringify(take(new SyntheticMarket(source(42)), 2_000));
    const c = JSON.stringify(take(new SyntheticMarket(source(43)), 2_000));

    expect(a).toBe(b);
    expect(a).not.toBe(c);
  });

  it('runs at the configured rates: ~30 trades/s plus a 300-trade sweep every ~10 s, ~100 bookTicker/s', () => {
    const market = new SyntheticMarket(syntheticSourceSchema.parse({ kind: 'synthetic', seed: 5 }));
    const counts = { trade: 0, aggTrade: 0, bookTicker: 0, depth: 0 };
    let prices: number[] = [];

    for (let batch = market.next(); batch.atMs < 300_000; batch = market.next()) {
      for (const event of batch.events) {
        counts[event.kind] += 1;
        if (event.kind === 'trade') prices.push(Number(event.data.p));
      }
    }

    // 300 s: ~9 000 ordinary trades and ~30 sweeps of 300 (Poisson: generous bounds).
    expect(counts.trade).toBeGreaterThan(8_500 + 12 * 300);
    expect(counts.trade).toBeLessThan(9_500 + 50 * 300);
    expect(counts.bookTicker).toBeGreaterThan(28_500);
    expect(counts.bookTicker).toBeLessThan(31_500);
    // One depth diff every 100 ms, the first at 100 ms.
    expect(counts.depth).toBe(2_999);
    prices = prices.filter((price) => price < 50_000 || price > 70_000);
    expect(prices).toEqual([]);
  });
});
