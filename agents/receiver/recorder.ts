/**
 * One path's recording: parse each arrival (already stamped), track loss per stream, append the
 * sample to the path's CSV. Malformed and unknown messages are counted, never fatal.
 *
 * Stamp first, record later: an arrival is only queued with its stamp, and the queue is parsed and
 * written in slices of at most {@link SLICE_MS} on the event loop's check phase. So every message a
 * socket read brings is stamped before any is parsed, and between slices the loop reads the
 * sockets again: during a burst a message waits at most a slice for its stamp instead of for the
 * parsing of everything before it (735 trades in one millisecond would otherwise be stamped over
 * the ~3 ms their parsing takes, and the receiver's slowness would be recorded as the network's).
 */
import { createLossTracker, parseMessage, type LossTracker } from '../../lib/binance';
import { decodeConnectionAnnouncement, decodeRelayFrame } from '../../lib/wire';
import type { FeedName, SampleWriter } from '../../lib/samples';

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

/** A slice of queued arrivals is parsed for at most this long before the sockets are read again. */
export const SLICE_MS = 0.25;
/** The clock is looked at every this many arrivals within a slice. */
const SLICE_CHECK_EVERY = 16;
/**
 * Arrivals waiting to be recorded, at most (a burst of several thousand fits; beyond, each new
 * arrival first records the oldest one).
 */
export const MAX_QUEUED = 8192;

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
  /** Arrivals not yet parsed, in order (a ring): bytes and stamp. */
  private readonly queued: (Buffer | undefined)[] = new Array<Buffer | undefined>(MAX_QUEUED);
  private readonly queuedStamps: bigint[] = new Array<bigint>(MAX_QUEUED).fill(0n);
  /** The ordinal of the exchange connection each arrival came from (0: not known). */
  private readonly queuedConnections = new Uint32Array(MAX_QUEUED);
  /** Backbone arrivals are relay frames `<forwarder stamp> <raw>`; baseline and control ones the exchange's messages. */
  private readonly framed: boolean;
  /**
   * Backbone: the forwarder's upstream connection, as last announced on the relay (lib/wire.ts);
   * 0 until the first announcement.
   */
  private relayedConnection = 0;
  private head = 0;
  private size = 0;
  private scheduled = false;

  constructor(
    readonly path: FeedName,
    readonly writer: SampleWriter,
  ) {
    this.framed = path === 'backbone';
  }

  /** Parses and writes everything queued, now (before the files close, and for exact counts). */
  drain(): void {
    while (this.size > 0) this.processNext();
  }

  /**
   * An arrival on this path with its stamp: the exchange's message as received (baseline, control)
   * with the ordinal of the connection that delivered it, or a relay frame (backbone: the ordinal
   * comes in the relay's announcements). Only queued here; parsed and written in the next slice.
   */
  arrive(data: Buffer, receiverNs: bigint, connection = 0): void {
    this.messages += 1;
    // A full queue means the receiver is overloaded: record the oldest now, so the queue stays
    // bounded and TCP's backpressure reaches the sender instead of our memory growing.
    if (this.size === MAX_QUEUED) this.processNext();
    const at = (this.head + this.size) % MAX_QUEUED;
    this.queued[at] = data;
    this.queuedStamps[at] = receiverNs;
    this.queuedConnections[at] = connection;
    this.size += 1;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.slice);
    }
  }

  private readonly slice = (): void => {
    this.scheduled = false;
    const deadline = performance.now() + SLICE_MS;
    let n = 0;
    while (this.size > 0) {
      this.processNext();
      n += 1;
      if (n % SLICE_CHECK_EVERY === 0 && performance.now() >= deadline) break;
    }
    if (this.size > 0) {
      this.scheduled = true;
      setImmediate(this.slice);
    }
  };

  private processNext(): void {
    const at = this.head;
    const data = this.queued[at] as Buffer;
    const receiverNs = this.queuedStamps[at] as bigint;
    const connection = this.queuedConnections[at] as number;
    this.queued[at] = undefined;
    this.head = (at + 1) % MAX_QUEUED;
    this.size -= 1;
    if (!this.framed) {
      this.record(data.toString(), receiverNs, undefined, connection);
      return;
    }
    const frame = decodeRelayFrame(data.toString());
    if (frame === undefined) {
      this.malformed += 1;
      return;
    }
    const announced = decodeConnectionAnnouncement(frame.raw);
    if (announced !== undefined) {
      // Not an event: it says which upstream connection the frames after it come from.
      if (Number.isNaN(announced)) this.malformed += 1;
      else this.relayedConnection = announced;
      return;
    }
    this.record(frame.raw, receiverNs, frame.stampNs, this.relayedConnection);
  }

  private record(raw: string, receiverNs: bigint, forwarderNs: bigint | undefined, connection: number): void {
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
      connection: connection === 0 ? undefined : connection,
      price: event.price,
      quantity: event.quantity,
    });
  }

  /** The path's counts so far (queued arrivals are recorded first). */
  status(): PathStatus {
    this.drain();
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
