import {
  createLossTracker,
  eventKey,
  parseMessage,
  parseStreamList,
  parseStreamName,
  parseStreamRequest,
  streamUrl,
} from '../lib/binance';
import { ErrorCode } from '../lib/errors';

const trade = (t: number, E = 1723161255343) =>
  `{"e":"trade","E":${E},"s":"BTCUSDT","t":${t},"p":"61837.63000000","q":"0.02000000","T":${E - 1},"m":true,"M":true}`;

describe('binance stream names and URLs', () => {
  it('parses each stream kind', () => {
    expect(parseStreamName('btcusdt@trade').kind).toBe('trade');
    expect(parseStreamName('ethusdt@aggTrade').kind).toBe('aggTrade');
    expect(parseStreamName('btcusdt@bookTicker').kind).toBe('bookTicker');
    expect(parseStreamName('btcusdt@depth@100ms')).toEqual({
      name: 'btcusdt@depth@100ms',
      symbol: 'btcusdt',
      kind: 'depth',
    });
  });

  it('rejects unknown streams with a stable code', () => {
    expect(() => parseStreamName('BTCUSDT@trade')).toThrow(
      expect.objectContaining({ code: ErrorCode.badStream }),
    );
    expect(() => parseStreamName('btcusdt@kline_1m')).toThrow(/unknown stream "btcusdt@kline_1m"/);
    expect(() => parseStreamList('btcusdt@trade,btcusdt@trade')).toThrow(/listed twice/);
    expect(() => parseStreamList(' , ')).toThrow(/no stream/);
  });

  it('builds raw and combined URLs with microsecond time', () => {
    expect(streamUrl('wss://stream.binance.com:9443', ['btcusdt@trade'])).toBe(
      'wss://stream.binance.com:9443/ws/btcusdt@trade?timeUnit=MICROSECOND',
    );
    expect(streamUrl('ws://127.0.0.1:9000/', ['btcusdt@trade', 'btcusdt@bookTicker'])).toBe(
      'ws://127.0.0.1:9000/stream?streams=btcusdt@trade/btcusdt@bookTicker&timeUnit=MICROSECOND',
    );
    expect(streamUrl('ws://h', ['btcusdt@trade'], { combined: true, microseconds: false })).toBe(
      'ws://h/stream?streams=btcusdt@trade',
    );
  });

  it('reads back what a URL asks for', () => {
    const combined = parseStreamRequest(
      '/stream?streams=btcusdt@trade/ethusdt@depth@100ms&timeUnit=MICROSECOND',
    );
    expect(combined.combined).toBe(true);
    expect(combined.microseconds).toBe(true);
    expect(combined.streams.map((s) => s.kind)).toEqual(['trade', 'depth']);
    const raw = parseStreamRequest('/ws/btcusdt@bookTicker');
    expect(raw).toMatchObject({ combined: false, microseconds: false });
    expect(() => parseStreamRequest('/nope')).toThrow(/unknown path/);
  });
});

describe('binance message parsing', () => {
  it('parses a raw trade, converts a millisecond E to microseconds and keeps price and quantity as text', () => {
    const outcome = parseMessage(trade(3735683259), 'btcusdt@trade');
    expect(outcome).toEqual({
      ok: true,
      event: {
        stream: 'btcusdt@trade',
        kind: 'trade',
        symbol: 'BTCUSDT',
        id: 3735683259,
        eventTimeUs: 1723161255343000,
        price: '61837.63000000',
        quantity: '0.02000000',
      },
    });
  });

  it('leaves out a price that is not a plain decimal (it would break the CSV row)', () => {
    const outcome = parseMessage(trade(1).replace('"61837.63000000"', '"1,5"'), 'btcusdt@trade');
    expect(outcome.ok && outcome.event.price).toBeUndefined();
  });

  it('keeps a microsecond E as it is', () => {
    const outcome = parseMessage(trade(1, 1723161255343123));
    expect(outcome.ok && outcome.event.eventTimeUs).toBe(1723161255343123);
    expect(outcome.ok && outcome.event.stream).toBe('btcusdt@trade');
  });

  it('unwraps combined messages: depth, bookTicker, aggTrade', () => {
    const depth = parseMessage(
      '{"stream":"btcusdt@depth@100ms","data":{"e":"depthUpdate","E":1723161255308,"s":"BTCUSDT","U":50093239203,"u":50093239207,"b":[],"a":[]}}',
    );
    expect(depth).toMatchObject({
      ok: true,
      event: { kind: 'depth', id: 50093239207, firstId: 50093239203 },
    });
    const book = parseMessage(
      '{"stream":"btcusdt@bookTicker","data":{"u":50093239212,"s":"BTCUSDT","b":"61837.63","B":"3.7","a":"61837.64","A":"1.5"}}',
    );
    expect(book).toMatchObject({ ok: true, event: { kind: 'bookTicker', id: 50093239212 } });
    expect(book.ok && book.event.eventTimeUs).toBeUndefined();
    const agg = parseMessage(
      '{"stream":"ethusdt@aggTrade","data":{"e":"aggTrade","E":1,"s":"ETHUSDT","a":7,"p":"1","q":"1","f":10,"l":12,"T":1,"m":false,"M":true}}',
    );
    expect(agg).toMatchObject({ ok: true, event: { kind: 'aggTrade', id: 7, stream: 'ethusdt@aggTrade' } });
  });

  it('counts malformed, unknown and control messages without throwing', () => {
    expect(parseMessage('{not json')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseMessage('[1,2]')).toMatchObject({ ok: false, reason: 'malformed' });
    expect(parseMessage('{"e":"trade","s":"BTCUSDT","E":1}')).toMatchObject({
      ok: false,
      reason: 'malformed',
    });
    expect(parseMessage('{"e":"kline","E":1,"s":"BTCUSDT"}')).toMatchObject({ ok: false, reason: 'unknown' });
    expect(parseMessage('{"lastUpdateId":1,"bids":[],"asks":[]}')).toMatchObject({
      ok: false,
      reason: 'unknown',
    });
    expect(parseMessage('{"e":"serverShutdown","E":1}')).toMatchObject({ ok: false, reason: 'control' });
    expect(parseMessage('{"result":null,"id":1}')).toMatchObject({ ok: false, reason: 'control' });
  });

  it('keys an event by kind, symbol and id so both paths agree', () => {
    expect(eventKey({ kind: 'trade', symbol: 'BTCUSDT', id: 5 })).toBe('trade:BTCUSDT:5');
    expect(eventKey({ kind: 'depth', symbol: 'BTCUSDT', id: 5 })).not.toBe(
      eventKey({ kind: 'bookTicker', symbol: 'BTCUSDT', id: 5 }),
    );
  });
});

describe('loss detection', () => {
  it('counts a trade-id gap as the ids it skipped', () => {
    const tracker = createLossTracker('trade');
    for (const id of [100, 101, 102, 105, 106]) tracker.observe({ symbol: 'BTCUSDT', id });
    expect(tracker.lost).toBe(2);
  });

  it('tracks ids per symbol and counts duplicates apart from losses', () => {
    const tracker = createLossTracker('aggTrade');
    for (const [symbol, id] of [
      ['A', 1],
      ['B', 50],
      ['A', 2],
      ['B', 51],
      ['A', 2],
      ['A', 1],
    ] as const) {
      tracker.observe({ symbol, id });
    }
    expect(tracker.lost).toBe(0);
    expect(tracker.duplicates).toBe(2);
  });

  it('counts a break in depth U/u continuity as one lost message', () => {
    const tracker = createLossTracker('depth');
    tracker.observe({ symbol: 'X', firstId: 10, id: 20 });
    expect(tracker.observe({ symbol: 'X', firstId: 21, id: 25 })).toBe(0);
    expect(tracker.observe({ symbol: 'X', firstId: 40, id: 45 })).toBe(1);
    expect(tracker.lost).toBe(1);
  });

  it('says bookTicker loss is not measurable, never 0', () => {
    const tracker = createLossTracker('bookTicker');
    tracker.observe({ symbol: 'X', id: 1 });
    tracker.observe({ symbol: 'X', id: 9 });
    expect(tracker.lost).toBeNull();
  });
});
