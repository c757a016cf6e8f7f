/** Number formatting shared by the verdict, the terminal table, report.md and report.html. */

const MINUS = '\u2212';

/** Decimals for ms figures shown together: 3 below 1 ms, 2 below 100 ms, else 1 (by the largest). */
export function msDigits(...values: (number | null | undefined)[]): number {
  const magnitude = Math.max(
    0,
    ...values.map((v) => (typeof v === 'number' && Number.isFinite(v) ? Math.abs(v) : 0)),
  );
  return magnitude < 1 ? 3 : magnitude < 100 ? 2 : 1;
}

/** A latency in ms for people, with {@link msDigits} decimals unless `digits` is given. */
export function ms(
  value: number | null | undefined,
  options: { sign?: boolean; digits?: number } = {},
): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  const magnitude = Math.abs(value);
  const digits = options.digits ?? msDigits(value);
  const text = magnitude.toFixed(digits);
  if (value < 0 && Number(text) !== 0) return `${MINUS}${text}`;
  return options.sign === true && value > 0 && Number(text) !== 0 ? `+${text}` : text;
}

/** A share in [0, 1] as a percentage. */
export function percent(share: number | null | undefined): string {
  if (share === null || share === undefined || !Number.isFinite(share)) return '–';
  const p = share * 100;
  return `${p >= 10 || p === 0 ? p.toFixed(0) : p.toFixed(1)}%`;
}

/** A count with thousands separators. */
export function count(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return '–';
  return Math.round(value).toLocaleString('en-US');
}

/** Any summary value: counts as counts, other numbers as ms, null as a dash. */
export function cell(value: unknown, key = ''): string {
  if (value === null || value === undefined) return '–';
  if (typeof value === 'number') {
    return key.endsWith('_ms') ? ms(value) : Number.isInteger(value) ? count(value) : String(value);
  }
  return String(value);
}
