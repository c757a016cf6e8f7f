/** Binance stream names and WebSocket URLs (spot). */
import { ErrorCode, FeedpathError } from '../errors';

export type StreamKind = 'trade' | 'aggTrade' | 'bookTicker' | 'depth';

export interface StreamName {
  /** As written in URLs and combined-stream wrappers, e.g. `btcusdt@depth@100ms`. */
  name: string;
  /** Lowercase symbol, e.g. `btcusdt`. */
  symbol: string;
  kind: StreamKind;
}

/** The public spot endpoint. */
export const BINANCE_WS_BASE = 'wss://stream.binance.com:9443';
/** A connection may carry at most this many streams. */
export const MAX_STREAMS_PER_CONNECTION = 1024;

const STREAM_RE = /^([a-z0-9]+)@(trade|aggTrade|bookTicker|depth(?:@(?:100|1000)ms)?)$/;

/** Parses `btcusdt@trade`, `btcusdt@aggTrade`, `btcusdt@bookTicker`, `btcusdt@depth[@100ms]`. */
export function parseStreamName(name: string): StreamName {
  const match = STREAM_RE.exec(name);
  if (match === null) {
    throw new FeedpathError(
      ErrorCode.badStream,
      `unknown stream "${name}": expected <lowercase symbol>@trade, @aggTrade, @bookTicker or @depth@100ms`,
    );
  }
  const [, symbol = '', suffix = ''] = match;
  const kind: StreamKind = suffix.startsWith('depth') ? 'depth' : (suffix as StreamKind);
  return { name, symbol, kind };
}

/** Parses a comma- or slash-separated list of stream names, rejecting duplicates. */
export function parseStreamList(list: string): StreamName[] {
  const names = list
    .split(/[,/]/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw new FeedpathError(ErrorCode.badStream, 'no stream given');
  if (names.length > MAX_STREAMS_PER_CONNECTION) {
    throw new FeedpathError(
      ErrorCode.badStream,
      `${names.length} streams: Binance allows ${MAX_STREAMS_PER_CONNECTION}`,
    );
  }
  const seen = new Set<string>();
  return names.map((name) => {
    if (seen.has(name)) throw new FeedpathError(ErrorCode.badStream, `stream "${name}" is listed twice`);
    seen.add(name);
    return parseStreamName(name);
  });
}

/**
 * The URL for a set of streams: `/ws/<stream>` for one, `/stream?streams=a/b` (combined, messages
 * wrapped as `{"stream":…,"data":…}`) for several or when `combined` is asked for.
 * `timeUnit=MICROSECOND` makes every time field (E, T) microseconds.
 */
export function streamUrl(
  base: string,
  streams: readonly string[],
  options: { combined?: boolean; microseconds?: boolean } = {},
): string {
  const { combined = streams.length > 1, microseconds = true } = options;
  const root = base.replace(/\/+$/, '');
  const params: string[] = [];
  let path: string;
  if (combined) {
    path = '/stream';
    params.push(`streams=${streams.join('/')}`);
  } else {
    if (streams.length !== 1)
      throw new FeedpathError(ErrorCode.badStream, 'a raw stream URL takes exactly one stream');
    path = `/ws/${streams[0]}`;
  }
  if (microseconds) params.push('timeUnit=MICROSECOND');
  return `${root}${path}${params.length > 0 ? `?${params.join('&')}` : ''}`;
}

export interface StreamRequest {
  streams: StreamName[];
  combined: boolean;
  microseconds: boolean;
}

/** The inverse of {@link streamUrl}, for servers: what a request path asks for. */
export function parseStreamRequest(pathAndQuery: string): StreamRequest {
  const url = new URL(pathAndQuery, 'ws://localhost');
  const timeUnit = url.searchParams.get('timeUnit') ?? url.searchParams.get('timeunit');
  const microseconds = timeUnit !== null && timeUnit.toUpperCase() === 'MICROSECOND';
  if (url.pathname === '/stream') {
    const list = url.searchParams.get('streams');
    if (list === null) throw new FeedpathError(ErrorCode.badStream, 'combined stream URL without ?streams=');
    return { streams: parseStreamList(list), combined: true, microseconds };
  }
  if (url.pathname.startsWith('/ws/')) {
    return {
      streams: parseStreamList(decodeURIComponent(url.pathname.slice(4))),
      combined: false,
      microseconds,
    };
  }
  throw new FeedpathError(
    ErrorCode.badStream,
    `unknown path "${url.pathname}": expected /ws/<stream> or /stream?streams=`,
  );
}
