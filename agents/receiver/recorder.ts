/**
 * One path's recording: parse each arrival (already stamped), track loss per stream, append the
 * sample to the path's CSV. Malformed and unknown messages are counted, never fatal.
 */
import { createLossTracker, parseMessage, type LossTracker } from '../../lib/binance';
import { decodeRelayFrame } from '../../lib/wire';
import type { PathName, SampleWriter } from '../../lib/samples';

/** What `progress` and `done` report per path. */
export interface PathStatus {
  samples: number;
  /** Events lost (gaps) over the streams where loss is measurable; null where none is. */
  lost: number | null;
  duplicates: number;
  malformed: number;
  unknown: number;
  control: number;
  /** Per stream: samples and lost (null: not measurable, e.g. bookTicker). */
  streams: Record<string, { samples: number; lost: number | null }>;
}

interface StreamState {
  tracker: LossTracker;
  samples: number;
}

export class PathRecorder {
  /** Messages that arrived on this path (whatever they were). */
  messages = 0;
  samples = 0;
  malformed = 0;
  unknown = 0;
  control = 0;
  private readonly streams = new Map<string, StreamState>();

  constructor(
    readonly path: PathName,
    readonly writer: SampleWriter,
  ) {}

  /** A baseline arrival: the exchange's message as received. */
  recordMessage(data: Buffer, receiverNs: bigint): void {
    this.messages += 1;
    this.record(data.toString(), receiverNs, undefined);
  }

  /** A backbone arrival: a relay frame `<forwarder stamp> <raw>`. */
  recordFrame(data: Buffer, receiverNs: bigint): void {
    this.messages += 1;
    const frame = decodeRelayFrame(data.toString());
    if (frame === undefined) {
      this.malformed += 1;
      return;
    }
    this.record(frame.raw, receiverNs, frame.stampNs);
  }

  private record(raw: string, receiverNs: bigint, forwarderNs: bigint | undefined): void {
    const outcome = parseMessage(raw);
    if (!outcome.ok) {
      if (outcome.reason === 'malformed') this.malformed += 1;
      else if (outcome.reason === 'unknown') this.unknown += 1;
      else this.control += 1;
      return;
    }
    const event = outcome.event;
    let stream = this.streams.get(event.stream);
    if (stream === undefined) {
      stream = { tracker: createLossTracker(event.kind), samples: 0 };
      this.streams.set(event.stream, stream);
    }
    stream.tracker.observe(event);
    stream.samples += 1;
    this.samples += 1;
    this.writer.append({
      id: event.id,
      stream: event.stream,
      symbol: event.symbol,
      exchangeTimeUs: event.eventTimeUs,
      forwarderNs,
      receiverNs,
      firstId: event.firstId,
    });
  }

  status(): PathStatus {
    let lost: number | null = null;
    let duplicates = 0;
    const streams: PathStatus['streams'] = {};
    for (const [name, state] of this.streams) {
      const streamLost = state.tracker.lost;
      if (streamLost !== null) lost = (lost ?? 0) + streamLost;
      duplicates += state.tracker.duplicates;
      streams[name] = { samples: state.samples, lost: streamLost };
    }
    // Nothing received yet: nothing lost that could be told.
    if (this.streams.size === 0) lost = 0;
    return {
      samples: this.samples,
      lost,
      duplicates,
      malformed: this.malformed,
      unknown: this.unknown,
      control: this.control,
      streams,
    };
  }
}
