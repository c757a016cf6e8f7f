/**
 * The market of a replayed run, from its capture. A replay rebases every event time E to the
 * instant the emulated exchange sent it (agents/exchange/replay.ts), so the recorded E describes the
 * replay's pacing at `speed`×, not the market the capture holds. The ids are kept, though: each
 * recorded event is found in the capture by (stream kind, symbol, id) and takes its original E,
 * price and quantity, so a replay's market context (events per second, bursts, prices) is the
 * capture's, exactly, and its latency by market state splits the events by the capture's bursts.
 */
import { existsSync } from 'node:fs';
import { interpretMessage } from '../binance';
import { openCapture } from '../capture';
import { lowerBound } from '../stats';
import type { PathColumns } from './path-columns';

/** One stream of a capture: its events' ids (ascending) with their E, price and quantity. */
interface CaptureStream {
  ids: Float64Array;
  eventUs: Float64Array;
  price: Float64Array;
  quantity: Float64Array;
}

export interface CaptureMarket {
  file: string;
  speed: number;
  /** By the results' stream key, `<kind>:<symbol>` (lib/analysis/path-columns.ts StreamGroup.key). */
  streams: Map<string, CaptureStream>;
}

/**
 * The replayed capture named by the run's input.json (`replay`, `speed`), when it is a readable
 * local file; `copy` is where it is when not there (a copy fetched again from S3).
 */
export async function readReplayCapture(
  input: Record<string, unknown> | null,
  warnings: string[],
  copy?: string,
): Promise<CaptureMarket | null> {
  const named = input?.replay;
  if (typeof named !== 'string' || named === '') return null;
  const file = copy ?? named;
  const speed = typeof input?.speed === 'number' && input.speed > 0 ? input.speed : 1;
  if (!existsSync(file)) {
    warnings.push(
      `the run replayed ${file}, which is not readable here: the market context uses the replay's event times (rebased to the send instants at ${speed}×)`,
    );
    return null;
  }
  const rows = new Map<string, { id: number; eventUs: number; price: number; quantity: number }[]>();
  const reader = await openCapture(file);
  try {
    for await (const record of reader) {
      const outcome = interpretMessage(record.data, record.stream);
      if (!outcome.ok) continue;
      const event = outcome.event;
      const key = `${event.kind}:${event.symbol.toLowerCase()}`;
      let list = rows.get(key);
      if (list === undefined) rows.set(key, (list = []));
      list.push({
        id: event.id,
        eventUs: event.eventTimeUs ?? NaN,
        price: event.price === undefined ? NaN : Number(event.price),
        quantity: event.quantity === undefined ? NaN : Number(event.quantity),
      });
    }
  } finally {
    await reader.close();
  }
  const streams = new Map<string, CaptureStream>();
  for (const [key, list] of rows) {
    list.sort((a, b) => a.id - b.id);
    streams.set(key, {
      ids: Float64Array.from(list, (r) => r.id),
      eventUs: Float64Array.from(list, (r) => r.eventUs),
      price: Float64Array.from(list, (r) => r.price),
      quantity: Float64Array.from(list, (r) => r.quantity),
    });
  }
  // Named as the user gave it (an s3:// URI rather than the temporary copy the run read).
  const source = input?.replaySource;
  return { file: typeof source === 'string' && source !== '' ? source : named, speed, streams };
}

/**
 * Gives each row the capture's E, price and quantity of its event (NaN for an event the capture
 * does not hold: its replayed E would not be comparable with the others').
 */
export function applyCaptureTimes(columns: PathColumns, capture: CaptureMarket): void {
  const n = columns.seq.length;
  const eventUs = new Float64Array(n).fill(NaN);
  const price = new Float64Array(n).fill(NaN);
  const quantity = new Float64Array(n).fill(NaN);
  const byGroup = columns.groups.map((g) => capture.streams.get(g.key));
  for (let row = 0; row < n; row++) {
    const stream = byGroup[columns.group[row] as number];
    if (stream === undefined) continue;
    const id = columns.seq[row] as number;
    const at = lowerBound(stream.ids, id);
    if (stream.ids[at] !== id) continue;
    eventUs[row] = stream.eventUs[at] as number;
    price[row] = stream.price[at] as number;
    quantity[row] = stream.quantity[at] as number;
  }
  columns.eventUs = eventUs;
  columns.price = price;
  columns.quantity = quantity;
}
