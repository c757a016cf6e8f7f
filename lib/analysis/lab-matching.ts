/**
 * Matching a message to the chunk that carried it. TCP chunks are not messages, and the truth has
 * no message ids, so each message is matched by time, with two facts that hold for every message:
 * it was sent at S before the link read it (read ≥ S), and the chunk holding its last byte was
 * released at or before the far end stamped it at A (release ≤ A). The message is given the last
 * chunk released at or before A; when several chunks were released in the same instant (one batch),
 * the first of them read at or after S. If that chunk was read before S (the clocks of two
 * processes disagree by more than the gap) the message is counted `unmatched`; if an earlier chunk
 * also fits (read ≥ S, released before) it is counted `ambiguous` (still matched: the far end
 * stamps on the first read after a release, so the last release is the likely one). The emulated
 * delay of a message is its chunk's `due − read`: the drawn delay plus any wait behind an earlier
 * chunk, less the link's compensation for the lab's hops; the link's lateness (`release − due`)
 * belongs to the overhead.
 */
import type { TruthColumns } from '../lab-truth';
import { upperBound } from '../stats';

/** A link direction's chunks in release order, for matching. */
export class ChunkIndex {
  private readonly order: Uint32Array;
  /** Release times in that order. */
  private readonly release: Float64Array;
  constructor(readonly c: TruthColumns) {
    const idx = Array.from({ length: c.count }, (_, i) => i);
    idx.sort((a, b) => (c.releaseNs[a] as number) - (c.releaseNs[b] as number) || a - b);
    this.order = Uint32Array.from(idx);
    this.release = Float64Array.from(idx, (i) => c.releaseNs[i] as number);
  }

  /**
   * The emulated delay (ns) of a message sent at `s` and stamped at `a` (ns since the epoch second;
   * `s` NaN when unknown), and whether another chunk would fit too; undefined when nothing fits.
   */
  match(
    s: number,
    a: number,
  ): { emulatedNs: number; compensationNs: number; ambiguous: boolean } | undefined {
    const { c, order } = this;
    let k = upperBound(this.release, a) - 1;
    if (k < 0) return undefined;
    const release = this.release[k] as number;
    let first = k;
    while (first > 0 && this.release[first - 1] === release) first -= 1;
    if (!Number.isNaN(s)) {
      let pick = -1;
      for (let j = first; j <= k; j++) {
        if ((c.readNs[order[j] as number] as number) >= s) {
          pick = j;
          break;
        }
      }
      if (pick < 0) return undefined;
      k = pick;
    }
    const chunk = order[k] as number;
    const before = first - 1;
    const ambiguous = !Number.isNaN(s) && before >= 0 && (c.readNs[order[before] as number] as number) >= s;
    return {
      emulatedNs: (c.dueNs[chunk] as number) - (c.readNs[chunk] as number),
      compensationNs: c.compensationNs[chunk] as number,
      ambiguous,
    };
  }
}
