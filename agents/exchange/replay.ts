/**
 * Replay of a capture at its recorded pace × `speed`.
 *
 * Ids and content are kept; times are rebased: `E` becomes the send instant (the server stamps it)
 * and `T` keeps its recorded distance to `E`, so a one-way latency measured downstream covers only
 * the emulated links, not the capture's own internet path.
 *
 * Pacing: a line is due at (its stamp − the first stamp) / speed after the start instant, floored
 * to the millisecond; lines due in the same millisecond go out together, and due times count from
 * the start instant (never from the previous send), so late timers do not add up to drift.
 * Reading runs ahead of sending by at most {@link READ_AHEAD} lines, so a long capture is streamed
 * and the next lines are already parsed when their time comes.
 */
import { toUs } from '../../lib/binance/parse';
import type { CaptureReader, CaptureRecord, CaptureSkips } from '../../lib/capture';
import type { ExchangeEvent } from './event';

/** What a finished replay reports. */
export interface ReplaySummary {
  /** Stream messages sent (to whoever was subscribed). */
  events: number;
  skipped: CaptureSkips;
  /** From the start instant to the last line sent, ms. */
  elapsedMs: number;
}

/** Lines parsed ahead of their send time, at most. */
const READ_AHEAD = 4096;
/** Reading resumes when fewer lines than this wait. */
const RESUME_BELOW = 1024;

export class Replay {
  /** Stream messages sent so far. */
  events = 0;
  /** Resolves when the last line has gone out; rejects if the capture cannot be read to its end. */
  readonly done: Promise<ReplaySummary>;
  private resolveDone!: (summary: ReplaySummary) => void;
  private rejectDone!: (error: unknown) => void;
  private readonly queue: CaptureRecord[] = [];
  private head = 0;
  private ended = false;
  private starved = false;
  private stopped = false;
  private startHr: bigint | undefined;
  private firstStampNs: bigint | undefined;
  private timer: NodeJS.Timeout | undefined;
  private resumeReading: (() => void) | undefined;

  constructor(
    private readonly reader: CaptureReader,
    private readonly speed: number,
    private readonly publish: (event: ExchangeEvent) => void,
  ) {
    this.done = new Promise<ReplaySummary>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // A caller that never looks at `done` must not see an unhandled rejection.
    this.done.catch(() => undefined);
    void this.read();
  }

  /** Whether sending has begun. */
  get started(): boolean {
    return this.startHr !== undefined;
  }

  /** Starts the clock: the first line goes out now. */
  start(): void {
    if (this.started || this.stopped) return;
    this.startHr = process.hrtime.bigint();
    this.tick();
  }

  /** Stops sending and reading (the file is closed). `done` stays pending if the end was not reached. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.resumeReading?.();
    await this.reader.close();
  }

  private async read(): Promise<void> {
    try {
      for await (const record of this.reader) {
        if (this.stopped) return;
        this.firstStampNs ??= record.stampNs;
        this.queue.push(record);
        if (this.starved) {
          this.starved = false;
          this.tick();
        }
        if (this.queue.length - this.head >= READ_AHEAD) {
          await new Promise<void>((resolve) => (this.resumeReading = resolve));
          this.resumeReading = undefined;
          if (this.stopped) return;
        }
      }
      this.ended = true;
      if (this.starved) {
        this.starved = false;
        this.tick();
      }
    } catch (error) {
      if (this.stopped) return;
      clearTimeout(this.timer);
      this.stopped = true;
      this.rejectDone(error);
    }
  }

  private readonly tick = (): void => {
    this.timer = undefined;
    if (this.stopped || this.startHr === undefined) return;
    const elapsedMs = Number(process.hrtime.bigint() - this.startHr) / 1e6;
    while (this.head < this.queue.length) {
      const record = this.queue[this.head] as CaptureRecord;
      const dueMs = this.dueMs(record);
      if (dueMs > elapsedMs) {
        this.timer = setTimeout(this.tick, Math.ceil(dueMs - elapsedMs));
        this.compact();
        return;
      }
      this.head += 1;
      this.send(record);
    }
    this.compact();
    if (this.ended) {
      this.stopped = true;
      this.resolveDone({
        events: this.events,
        skipped: { ...this.reader.skipped },
        elapsedMs: Math.round(elapsedMs),
      });
    } else {
      this.starved = true;
    }
  };

  private dueMs(record: CaptureRecord): number {
    return Math.floor(Number(record.stampNs - (this.firstStampNs ?? record.stampNs)) / 1e6 / this.speed);
  }

  private send(record: CaptureRecord): void {
    const { data } = record;
    const eventUs = toUs(data.E);
    const tradeUs = toUs(data.T);
    const tradeLagUs = eventUs === undefined || tradeUs === undefined ? undefined : eventUs - tradeUs;
    this.publish({ stream: record.stream, kind: record.kind, data, tradeLagUs });
    this.events += 1;
  }

  private compact(): void {
    if (this.head >= RESUME_BELOW) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
    if (this.queue.length - this.head < RESUME_BELOW) this.resumeReading?.();
  }
}
