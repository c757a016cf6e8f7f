/** Parsing of Binance stream messages into the few fields a latency measurement needs. */
import type { StreamKind } from './streams';

export interface MarketEvent {
  /** Stream name: from the combined-stream wrapper, else the connection's only stream. */
  stream: string;
  kind: StreamKind;
  /** Uppercase symbol as Binance sends it (`s`). */
  symbol: string;
  /** The exchange's id of the event: trade `t`, aggTrade `a`, book/depth update `u`. */
  id: number;
  /** Depth only: the first update id `U` the message covers. */
  firstId?: number;
  /**
   * Event time `E` in microseconds, whatever unit it came in (absent for spot bookTicker, which
   * has no event time). Milliseconds are told from microseconds by magnitude: an epoch time in ms
   * is below 1e14 until the year 5138, one in µs is above it since 1973.
   */
  eventTimeUs?: number;
  /** Trade and aggTrade: price `p` and quantity `q`, the exchange's decimal text (absent elsewhere). */
  price?: string;
  quantity?: string;
}

export type ParseOutcome =
  | { ok: true; event: MarketEvent }
  | { ok: false; reason: 'malformed' | 'unknown' | 'control'; detail: string };

const MS_US_THRESHOLD = 1e14;
/** A price or quantity as Binance writes it: digits with an optional fraction. */
const DECIMAL = /^\d{1,20}(\.\d{1,20})?$/;

/** An epoch time (`E`, `T`) in µs, whichever unit it came in (see {@link MarketEvent.eventTimeUs}). */
export function toUs(value: unknown): number | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  return value < MS_US_THRESHOLD ? value * 1000 : value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(reason: 'malformed' | 'unknown' | 'control', detail: string): ParseOutcome {
  return { ok: false, reason, detail };
}

/**
 * Parses one message, raw (`{"e":"trade",…}`) or combined (`{"stream":…,"data":{…}}`).
 * Never throws: malformed and unknown messages come back as outcomes to count.
 * `defaultStream` names the stream of a raw (unwrapped) connection.
 */
export function parseMessage(text: string, defaultStream = ''): ParseOutcome {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail('malformed', 'not JSON');
  }
  return interpretMessage(parsed, defaultStream);
}

/** As {@link parseMessage}, for a message already decoded from JSON. */
export function interpretMessage(parsed: unknown, defaultStream = ''): ParseOutcome {
  if (!isObject(parsed)) return fail('malformed', 'not a JSON object');
  let stream = defaultStream;
  let data: Record<string, unknown> = parsed;
  if (typeof parsed.stream === 'string' && 'data' in parsed) {
    if (!isObject(parsed.data)) return fail('malformed', 'combined message without a data object');
    stream = parsed.stream;
    data = parsed.data;
  }
  const type = data.e;
  if (type === 'serverShutdown') return fail('control', 'serverShutdown');
  if ('result' in data && 'id' in data) return fail('control', 'request response');
  const symbol = data.s;
  if (typeof symbol !== 'string') return fail(type === undefined ? 'unknown' : 'malformed', 'no symbol (s)');
  const streamOr = (suffix: string): string => (stream !== '' ? stream : `${symbol.toLowerCase()}@${suffix}`);

  switch (type) {
    case 'trade':
    case 'aggTrade': {
      const id = type === 'trade' ? data.t : data.a;
      const eventTimeUs = toUs(data.E);
      if (typeof id !== 'number' || eventTimeUs === undefined)
        return fail('malformed', `${type} without id or E`);
      const event: MarketEvent = { stream: streamOr(type), kind: type, symbol, id, eventTimeUs };
      // Kept as text: only a decimal string of digits is copied into the CSV (its cells are unquoted).
      if (typeof data.p === 'string' && DECIMAL.test(data.p)) event.price = data.p;
      if (typeof data.q === 'string' && DECIMAL.test(data.q)) event.quantity = data.q;
      return { ok: true, event };
    }
    case 'depthUpdate': {
      const { U, u } = data;
      const eventTimeUs = toUs(data.E);
      if (typeof U !== 'number' || typeof u !== 'number' || eventTimeUs === undefined) {
        return fail('malformed', 'depthUpdate without U, u or E');
      }
      return {
        ok: true,
        event: { stream: streamOr('depth@100ms'), kind: 'depth', symbol, id: u, firstId: U, eventTimeUs },
      };
    }
    case undefined: {
      // Spot bookTicker has no `e` and no event time: u, s, b, B, a, A.
      if (typeof data.u === 'number' && 'b' in data && 'a' in data) {
        return {
          ok: true,
          event: { stream: streamOr('bookTicker'), kind: 'bookTicker', symbol, id: data.u },
        };
      }
      return fail('unknown', 'no event type (e)');
    }
    default:
      return fail('unknown', `event type "${String(type)}"`);
  }
}

/** The key that names one exchange event on every path: stream kind, symbol and id. */
export function eventKey(event: Pick<MarketEvent, 'kind' | 'symbol' | 'id'>): string {
  return `${event.kind}:${event.symbol}:${event.id}`;
}
