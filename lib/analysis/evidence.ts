/**
 * The least data a verdict may stand on. Below it the report says there is not enough data, the
 * paired difference is never `significant`, and no direction is claimed.
 *
 * Why these numbers: the interval's variance is estimated over blocks of receive time (events of
 * one burst are not independent; lib/stats/interval.ts), so its honesty depends on the number of
 * independent stretches of time, not of events: under 5 s there are too few one-second blocks to
 * say how the median would vary on another day. 100 events is where the median's own 95% rank interval (≈ ranks 40…60)
 * stops being the whole sample. A run of the default 30 s at a quiet market clears both easily; a
 * run cut short by a crash or `--duration 1` does not.
 */
export const MIN_EVIDENCE = { events: 100, seconds: 5 } as const;

export interface Evidence {
  sufficient: boolean;
  /** Events the figures rest on (matched events for the paired delta, samples for one path). */
  events: number;
  /** Seconds of receive time those events cover (first to last arrival). */
  seconds: number | null;
  /** Why the evidence is not sufficient (null when it is). */
  reason: string | null;
  minimum: { events: number; seconds: number };
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}

/** Whether `events` over `seconds` of receive time are enough for a verdict. */
export function assessEvidence(events: number, seconds: number | null, what = 'matched event'): Evidence {
  const minimum = { ...MIN_EVIDENCE };
  const covered = seconds === null ? null : Math.max(0, seconds);
  const short: string[] = [];
  if (events < minimum.events) short.push(`${plural(events, what)} (at least ${minimum.events} needed)`);
  if (covered === null || covered < minimum.seconds) {
    short.push(
      `${covered === null ? 'no receive times' : `${covered.toFixed(covered < 10 ? 1 : 0)} s of data`} (at least ${minimum.seconds} s needed)`,
    );
  }
  return {
    sufficient: short.length === 0,
    events,
    seconds: covered,
    reason: short.length === 0 ? null : short.join(' and '),
    minimum,
  };
}
