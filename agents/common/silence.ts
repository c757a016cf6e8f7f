/**
 * Detects a silent peer (ws README "heartbeat"): the owner sets `peer.alive = true` on every message,
 * ping or pong — one property store, cheap enough for the per-message path — and a timer that ticks
 * every quarter of the timeout calls `onSilent` once nothing was seen for four ticks in a row, i.e.
 * between `timeoutMs` and 1.25 × `timeoutMs` after the last sign of life.
 */
const TICKS_PER_TIMEOUT = 4;

/** What the watch reads and resets: the owner's per-connection flag. */
export interface Liveness {
  alive: boolean;
}

export class SilenceWatch {
  private silentTicks = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(peer: Liveness, timeoutMs: number, onSilent: () => void) {
    peer.alive = true;
    this.timer = setInterval(
      () => {
        if (peer.alive) {
          peer.alive = false;
          this.silentTicks = 0;
          return;
        }
        this.silentTicks += 1;
        if (this.silentTicks >= TICKS_PER_TIMEOUT) {
          this.stop();
          onSilent();
        }
      },
      Math.max(1, timeoutMs / TICKS_PER_TIMEOUT),
    );
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }
}
