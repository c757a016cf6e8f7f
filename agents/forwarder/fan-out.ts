/**
 * Hands the relay frames to every receiver. The first frame of a turn of the event loop goes out at
 * once: a lone message, the common case, waits for nothing. Frames that follow in the same turn —
 * the rest of one exchange read, i.e. a burst — are joined into one buffer that is written to each
 * receiver once when the turn ends: one syscall per receiver for the whole burst instead of one per
 * frame, and one buffer per burst queued for a receiver that lags instead of one object per frame.
 * Every frame keeps the stamp it was built with; only when its bytes leave changes.
 */
import type { RelayLink } from './relay-link';

/** What the fan-out needs of a link (RelayLink; tests use stand-ins). */
export type RelayTarget = Pick<RelayLink, 'send'>;

export class RelayFanOut {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Relay frames among `pending` (a connection announcement is not one: it carries no event). */
  private pendingFrames = 0;
  private inTurn = false;

  constructor(private readonly links: readonly RelayTarget[]) {}

  /**
   * Relays one frame (a complete WebSocket frame, lib/wire `encodeRelayWsFrame`); `frames` is what
   * it counts as in the links' relayed/dropped counters (0 for a connection announcement).
   */
  relay(frame: Buffer, frames = 1): void {
    if (this.inTurn) {
      this.pending.push(frame);
      this.pendingBytes += frame.length;
      this.pendingFrames += frames;
      return;
    }
    this.inTurn = true;
    process.nextTick(this.endTurn);
    for (let i = 0; i < this.links.length; i += 1) (this.links[i] as RelayTarget).send(frame, frames);
  }

  private readonly endTurn = (): void => {
    this.inTurn = false;
    const count = this.pending.length;
    if (count === 0) return;
    const bytes = count === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    const frames = this.pendingFrames;
    this.pending = [];
    this.pendingBytes = 0;
    this.pendingFrames = 0;
    for (let i = 0; i < this.links.length; i += 1) (this.links[i] as RelayTarget).send(bytes, frames);
  };
}
