/**
 * The trend charts' time axis, labelled for the runs' spacing. Vega's default UTC labels switch
 * format per tick (".500" for a tick between seconds, ":05" for a second, "PM" for an hour), so
 * runs seconds or minutes apart read ".500 .500 .500". Here one format and one tick interval are
 * chosen from the span of the runs, seconds to years, with at most about {@link MAX_TICKS} ticks;
 * the date is in the title when every label shows only a time of day.
 */

/** At most about this many labelled ticks. */
const MAX_TICKS = 8;

type Unit = 'second' | 'minute' | 'hour' | 'day' | 'month' | 'year';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const MONTH = 30 * DAY;
const YEAR = 365 * DAY;

/** Candidate intervals, smallest first: unit, step, its length (ms) and the label format. */
const INTERVALS: { unit: Unit; step: number; ms: number; format: string; dated: boolean }[] = [
  ...[1, 2, 5, 10, 15, 30].map((step) => ({
    unit: 'second' as const,
    step,
    ms: step * SECOND,
    format: '%H:%M:%S',
    dated: false,
  })),
  ...[1, 2, 5, 10, 15, 30].map((step) => ({
    unit: 'minute' as const,
    step,
    ms: step * MINUTE,
    format: '%H:%M',
    dated: false,
  })),
  ...[1, 2, 3, 6, 12].map((step) => ({
    unit: 'hour' as const,
    step,
    ms: step * HOUR,
    format: '%d %b %H:%M',
    dated: true,
  })),
  ...[1, 2, 7, 14].map((step) => ({
    unit: 'day' as const,
    step,
    ms: step * DAY,
    format: '%d %b',
    dated: true,
  })),
  ...[1, 2, 3, 6].map((step) => ({
    unit: 'month' as const,
    step,
    ms: step * MONTH,
    format: '%b %Y',
    dated: true,
  })),
  ...[1, 2, 5, 10].map((step) => ({
    unit: 'year' as const,
    step,
    ms: step * YEAR,
    format: '%Y',
    dated: true,
  })),
];

export interface TimeAxis {
  field: 'time';
  type: 'temporal';
  title: string;
  scale: { type: 'utc'; domain: [number, number]; nice: false };
  axis: {
    labelAngle: 0;
    /** utcFormat with the interval's format: vega-lite drops a plain `format` on a utc time axis. */
    labelExpr: string;
    /** The ticks, ms since the epoch (vega's own `tickCount: {interval}` fails in the SVG renderer). */
    values: number[];
    labelOverlap: true;
  };
}

/** Ticks from `low` to `high` at whole steps of the interval (UTC): 10:00:05, 1 Mar, Jan 2027. */
function ticks(low: number, high: number, interval: (typeof INTERVALS)[0]): number[] {
  const out: number[] = [];
  if (interval.unit === 'month' || interval.unit === 'year') {
    // Months counted from year 0, the first one at or after `low`, rounded up to a whole step.
    const months = interval.unit === 'month' ? interval.step : 12 * interval.step;
    const monthStart = (index: number): number => Date.UTC(Math.floor(index / 12), index % 12, 1);
    const start = new Date(low);
    let index = start.getUTCFullYear() * 12 + start.getUTCMonth();
    if (monthStart(index) < low) index += 1;
    index = Math.ceil(index / months) * months;
    for (; monthStart(index) <= high; index += months) out.push(monthStart(index));
    return out;
  }
  for (let t = Math.ceil(low / interval.ms) * interval.ms; t <= high; t += interval.ms) out.push(t);
  return out;
}

/** The x encoding for runs started at `times` (ISO). */
export function trendTimeAxis(times: readonly string[]): TimeAxis {
  const ms = times.map((t) => new Date(t).getTime()).filter((t) => Number.isFinite(t));
  const first = ms.length === 0 ? 0 : Math.min(...ms);
  const last = ms.length === 0 ? 0 : Math.max(...ms);
  // A margin on each side so the first and last runs are not on the frame; a lone run gets a minute.
  const pad = last > first ? (last - first) * 0.05 : 30 * SECOND;
  const low = first - pad;
  const high = last + pad;
  const span = high - low;
  const chosen =
    INTERVALS.find((i) => span / i.ms <= MAX_TICKS) ??
    (INTERVALS[INTERVALS.length - 1] as (typeof INTERVALS)[0]);
  const day = new Date(first).toISOString().slice(0, 10);
  const lastDay = new Date(last).toISOString().slice(0, 10);
  const title = chosen.dated
    ? 'run start (UTC)'
    : `run start (UTC, ${day === lastDay ? day : `${day} … ${lastDay}`})`;
  return {
    field: 'time',
    type: 'temporal',
    title,
    scale: { type: 'utc', domain: [low, high], nice: false },
    axis: {
      labelAngle: 0,
      labelExpr: `utcFormat(datum.value, '${chosen.format}')`,
      values: ticks(low, high, chosen),
      labelOverlap: true,
    },
  };
}
