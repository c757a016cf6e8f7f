/**
 * The text of report.json and of the other JSON the analysis writes (the per-path summaries, the
 * receivers' matrix): JSON with ms figures rounded to the ns (6 decimals): the inputs have µs resolution, so nothing
 * meaningful is lost, and people can read the file. Non-finite numbers become null.
 */
export function toJson(value: unknown): string {
  return `${JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v !== 'number') return v;
      if (!Number.isFinite(v)) return null;
      return Number.isInteger(v) ? v : Math.round(v * 1e6) / 1e6;
    },
    2,
  )}\n`;
}
