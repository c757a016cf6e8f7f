import { WebSocketServer } from 'ws';
import { startExchange, type ExchangeHandle } from '../agents/exchange/exchange';
import { Backoff } from '../agents/common/backoff';
import { isControlCandidate, isServerShutdown } from '../agents/common/control';
import { ExchangeFeed, type MessageHandler } from '../agents/common/feed';
import { parseMessage } from '../lib/binance';
import type { FeedpathError } from '../lib/errors';
import { freePort, startFakeExchange, tradeMessage, waitFor, type FakeExchange } from './feed.helpers';

describe('backoff', () => {
  it('keeps every wait within [0, min(cap, base · 2^n)]', () => {
    const highest = new Backoff({ baseMs: 100, capMs: 1_000, random: () => 0.999999 });
    const lowest = new Backoff({ baseMs: 100, capMs: 1_000, random: () => 0 });

    const high = Array.from({ length: 8 }, () => highest.next());
    const low = Array.from({ length: 8 }, () => lowest.next());

    const ceilings = [100, 200, 400, 800, 1_000, 1_000, 1_000, 1_000];
    high.forEach((wait, n) => {
      expect(wait).toBeLessThanOrEqual(ceilings[n] as number);
      expect(wait).toBeGreaterThan((ceilings[n] as number) * 0.999);
    });
    expect(low.every((wait) => wait === 0)).toBe(true);
  });

  it('spreads waits with full jitter and starts over after a reset', () => {
    const backoff = new Backoff({ baseMs: 250, capMs: 30_000 });
    for (let i = 0; i < 20; i += 1) backoff.next();
    const waits = Array.from({ length: 200 }, () => backoff.next());

    backoff.reset();

    expect(Math.max(...waits)).toBeLessThanOrEqual(30_000);
    expect(Math.min(...waits)).toBeLessThan(10_000);
    expect(backoff.ceilingMs()).toBe(250);
    expect(backoff.next()).toBeLessThanOrEqual(250);
  });
});

describe('control messages', () => {
  const shutdownForms = [
    '{"e":"serverShutdown","E":1723161255208000}',
    '{"stream":"!serverShutdown","data":{"e":"serverShutdown","E":1723161255208}}',
    '{"event":{"e":"serverShutdown","E":1770123456789}}',
  ];
  const marketForms = [
    tradeMessage(1),
    '{"e":"trade","E":1723161255343000,"s":"BTCUSDT","t":3735683259,"p":"1","q":"1","T":1,"m":true,"M":true}',
    '{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"BTCUSDT","a":5,"p":"1","q":"1","f":1,"l":2,"T":1,"m":true,"M":true}}',
    '{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}}',
    '{"u":50093239212,"s":"BTCUSDT","b":"1","B":"1","a":"2","A":"1"}',
    '{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}',
    '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[],"a":[]}}',
  ];

  it('spots serverShutdown in every form and no market message', () => {
    const spotted = shutdownForms.map(
      (text) => isControlCandidate(Buffer.from(text)) && isServerShutdown(Buffer.from(text)),
    );
    const falseAlarms = marketForms.filter((text) => isControlCandidate(Buffer.from(text)));

    expect(spotted).toEqual([true, true, true]);
    expect(falseAlarms).toEqual([]);
  });
});

/** An onMessage that keeps each trade's id, in arrival order. */
function keepIds(ids: number[]): MessageHandler {
  return (data) => {
    const outcome = parseMessage(data.toString());
    if (outcome.ok) ids.push(outcome.event.id);
  };
}

/** The ids that do not follow the one before them (a trade lost or out of order). */
function gapsIn(ids: number[]): number[] {
  return ids.slice(1).filter((id, i) => id !== (ids[i] as number) + 1);
}

describe('exchange feed', () => {
  let fake: FakeExchange | undefined;
  let exchange: ExchangeHandle | undefined;
  let feed: ExchangeFeed | undefined;

  afterEach(async () => {
    await feed?.stop();
    await fake?.close();
    await exchange?.stop();
    feed = undefined;
    fake = undefined;
    exchange = undefined;
  });

  it('detects a silent server, leaves it and reconnects', async () => {
    fake = await startFakeExchange();
    const warnings: FeedpathError[] = [];
    feed = new ExchangeFeed({
      url: fake.url,
      onMessage: () => undefined,
      silenceTimeoutMs: 200,
      backoff: { baseMs: 20, capMs: 50 },
      events: { warning: (error) => warnings.push(error) },
    });

    feed.start();
    await waitFor(() => (fake as FakeExchange).connections.length >= 2, 'a second connection', 3_000);

    const first = fake.connections[0];
    await waitFor(() => first?.readyState === first?.CLOSED, 'the silent connection to be closed');
    expect(feed.counters.silentDrops).toBeGreaterThanOrEqual(1);
    expect(warnings.map((w) => w.code)).toContain('FP_PEER_SILENT');
  });

  it('stays on a quiet server that pings', async () => {
    fake = await startFakeExchange();
    fake.wss.on('connection', (ws) => {
      const timer = setInterval(() => ws.ping(), 50);
      ws.on('close', () => clearInterval(timer));
    });
    feed = new ExchangeFeed({ url: fake.url, onMessage: () => undefined, silenceTimeoutMs: 200 });

    feed.start();
    await new Promise((resolve) => setTimeout(resolve, 600));

    expect(fake.connections).toHaveLength(1);
    expect(feed.counters.silentDrops).toBe(0);
    expect(feed.connected).toBe(true);
  });

  it('reconnects after the server drops the connection and passes on what the new one sends', async () => {
    fake = await startFakeExchange();
    fake.wss.on('connection', (ws) => {
      const n = (fake as FakeExchange).connections.length;
      ws.send(tradeMessage(n));
      if (n === 1) setTimeout(() => ws.terminate(), 20);
    });
    const ids: number[] = [];
    feed = new ExchangeFeed({
      url: fake.url,
      onMessage: keepIds(ids),
      backoff: { baseMs: 20, capMs: 50 },
    });

    feed.start();
    await waitFor(() => ids.length >= 2, 'a message from each connection');

    expect(ids).toEqual([1, 2]);
    expect(feed.counters.drops).toBe(1);
    expect(feed.counters.connects).toBe(2);
  });

  it('stamps each arrival with the wall clock, before handing it on', async () => {
    fake = await startFakeExchange();
    fake.wss.on('connection', (ws) => ws.send(tradeMessage(7)));
    const stamps: bigint[] = [];
    const before = BigInt(Date.now()) * 1_000_000n;
    feed = new ExchangeFeed({ url: fake.url, onMessage: (_data, stampNs) => stamps.push(stampNs) });

    feed.start();
    await waitFor(() => stamps.length === 1, 'one message');
    const after = BigInt(Date.now() + 1) * 1_000_000n;

    expect(stamps[0]).toBeGreaterThanOrEqual(before);
    expect(stamps[0]).toBeLessThanOrEqual(after);
  });

  it('keeps retrying an unreachable exchange, warns FP_EXCHANGE_UNREACHABLE, and connects once it is up', async () => {
    const port = await freePort();
    const warnings: FeedpathError[] = [];
    feed = new ExchangeFeed({
      url: `ws://127.0.0.1:${port}/stream?streams=btcusdt@trade`,
      onMessage: () => undefined,
      backoff: { baseMs: 20, capMs: 60 },
      events: { warning: (error) => warnings.push(error) },
    });

    feed.start();
    await waitFor(() => (feed as ExchangeFeed).counters.failedAttempts >= 3, 'three failed attempts');
    fake = await startFakeExchange(port);
    await waitFor(() => (feed as ExchangeFeed).connected, 'the connection once the exchange is up');

    // One warning at the first failure, then at most one per 30 s: not one per attempt.
    expect(warnings.map((w) => w.code)).toEqual(['FP_EXCHANGE_UNREACHABLE']);
    expect(warnings[0]?.message).toMatch(/ECONNREFUSED/);
  });

  it('fails with FP_EXCHANGE_UNREACHABLE when connectTimeoutMs passes without a connection', async () => {
    const port = await freePort();
    let fatal: FeedpathError | undefined;
    feed = new ExchangeFeed({
      url: `ws://127.0.0.1:${port}/ws/btcusdt@trade`,
      onMessage: () => undefined,
      backoff: { baseMs: 20, capMs: 50 },
      connectTimeoutMs: 300,
      events: { fatal: (error) => (fatal = error) },
    });

    feed.start();
    await waitFor(() => fatal !== undefined, 'the fatal error', 3_000);

    expect(fatal?.code).toBe('FP_EXCHANGE_UNREACHABLE');
    expect(fatal?.message).toMatch(/no connection in 0.3 s/);
  });

  it('rolls over on serverShutdown with an overlap: no trade id lost, none doubled', async () => {
    // Each connection lives 900 ms; serverShutdown comes 700 ms before the forced close.
    exchange = await startExchange({
      maxConnectionMs: 900,
      shutdownNoticeMs: 700,
      source: {
        kind: 'synthetic',
        tradesPerSecond: 400,
        bookTickerPerSecond: 0,
        burstSize: 40,
        burstIntervalMs: 300,
      },
    });
    const ids: number[] = [];
    feed = new ExchangeFeed({
      url: `${exchange.url}/stream?streams=btcusdt@trade&timeUnit=MICROSECOND`,
      onMessage: keepIds(ids),
      overlapDrainMs: 50,
    });

    feed.start();
    await waitFor(() => (feed as ExchangeFeed).counters.rollovers >= 3, 'three rollovers', 6_000);
    await waitFor(() => (feed as ExchangeFeed).counters.connects >= 4, 'the fourth connection');
    const seenAt = ids.length;
    await waitFor(() => ids.length > seenAt + 50, 'trades after the last rollover');

    const doubled = ids.length - new Set(ids).size;
    expect(feed.counters.serverShutdowns).toBeGreaterThanOrEqual(3);
    expect(feed.counters.duplicatesDropped).toBeGreaterThan(0);
    expect(doubled).toBe(0);
    expect(gapsIn(ids)).toEqual([]);
  });

  it('rolls over before the connection age limit, without a notice', async () => {
    exchange = await startExchange({
      source: { kind: 'synthetic', tradesPerSecond: 300, bookTickerPerSecond: 0, burstSize: 0 },
    });
    const ids: number[] = [];
    feed = new ExchangeFeed({
      url: `${exchange.url}/stream?streams=btcusdt@trade&timeUnit=MICROSECOND`,
      onMessage: keepIds(ids),
      maxConnectionMs: 400,
      overlapDrainMs: 50,
    });

    feed.start();
    await waitFor(() => (feed as ExchangeFeed).counters.rollovers >= 2, 'two rollovers', 4_000);
    const seenAt = ids.length;
    await waitFor(() => ids.length > seenAt + 30, 'trades after the rollover');

    expect(gapsIn(ids)).toEqual([]);
    expect(feed.counters.drops).toBe(0);
  });

  it('switches to the new connection even when no event comes (a quiet market)', async () => {
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
    await new Promise((resolve) => wss.once('listening', resolve));
    const port = (wss.address() as { port: number }).port;
    let connections = 0;
    wss.on('connection', (ws) => {
      connections += 1;
      if (connections === 1) ws.send('{"e":"serverShutdown","E":1723161255208000}');
    });
    feed = new ExchangeFeed({
      url: `ws://127.0.0.1:${port}/stream?streams=btcusdt@trade`,
      onMessage: () => undefined,
      overlapTimeoutMs: 100,
    });

    try {
      feed.start();
      await waitFor(() => connections === 2, 'the second connection');
      await waitFor(() => [...wss.clients].length === 1, 'the first connection to be closed');
    } finally {
      await feed.stop();
      await new Promise((resolve) => wss.close(resolve));
    }
    expect(feed.counters.rollovers).toBe(1);
  });
});
