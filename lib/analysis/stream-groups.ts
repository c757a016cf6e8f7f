/**
 * Which stream each row of a results CSV belongs to: rows with the same (stream kind, symbol) are the
 * same events on both paths. The last names seen are kept as bytes, so that a row's group is found
 * without decoding its cells to strings.
 */
import { ErrorCode, FeedpathError } from '../errors';
import { parseStreamName, type StreamKind } from '../binance';
import { sameBytes } from './csv-fields';
import type { StreamGroup } from './path-columns';

interface KnownName {
  stream: Uint8Array;
  symbol: Uint8Array;
  group: number;
}

export class StreamGroups {
  readonly groups: StreamGroup[] = [];
  private readonly groupByKey = new Map<string, number>();
  private readonly groupByNames = new Map<string, number>();
  private readonly known: KnownName[] = [];
  private lastKnown: KnownName | undefined;

  constructor(
    private readonly source: string,
    private readonly defaultKind: StreamKind,
  ) {}

  /** The group of a row from its stream and symbol cells (byte ranges of `buf`). */
  groupOf(buf: Buffer, ss: number, se: number, ys: number, ye: number): number {
    const last = this.lastKnown;
    if (last !== undefined && sameBytes(buf, ss, se, last.stream) && sameBytes(buf, ys, ye, last.symbol)) {
      return last.group;
    }
    for (const entry of this.known) {
      if (sameBytes(buf, ss, se, entry.stream) && sameBytes(buf, ys, ye, entry.symbol)) {
        this.lastKnown = entry;
        return entry.group;
      }
    }
    const stream = Buffer.from(buf.subarray(ss, se)).toString('utf8').trim();
    const symbolField = Buffer.from(buf.subarray(ys, ye)).toString('utf8').trim().toLowerCase();
    const names = `${stream}\n${symbolField}`;
    let id = this.groupByNames.get(names);
    if (id === undefined) {
      id = this.resolveGroup(stream, symbolField);
      this.groupByNames.set(names, id);
    }
    if (this.known.length < 256) {
      const entry = {
        stream: new Uint8Array(buf.subarray(ss, se)),
        symbol: new Uint8Array(buf.subarray(ys, ye)),
        group: id,
      };
      this.known.push(entry);
      this.lastKnown = entry;
    }
    return id;
  }

  private resolveGroup(stream: string, symbolField: string): number {
    let kind: StreamKind | undefined;
    let kindAssumed = false;
    let symbol = symbolField;
    let key: string;
    if (stream === '') {
      kind = this.defaultKind;
      kindAssumed = true;
      key = `${kind}:${symbol}`;
    } else {
      try {
        const parsed = parseStreamName(stream);
        kind = parsed.kind;
        if (symbol === '') symbol = parsed.symbol;
        key = `${kind}:${symbol}`;
      } catch {
        key = `?${stream}:${symbol}`;
      }
    }
    let id = this.groupByKey.get(key);
    if (id === undefined) {
      if (this.groups.length >= 0xffff) {
        throw new FeedpathError(ErrorCode.badResults, `${this.source}: more than 65535 distinct streams`);
      }
      id = this.groups.length;
      this.groups.push({ key, kind, kindAssumed, symbol, streams: [] });
      this.groupByKey.set(key, id);
    }
    const group = this.groups[id] as StreamGroup;
    if (!group.streams.includes(stream)) group.streams.push(stream);
    return id;
  }
}
