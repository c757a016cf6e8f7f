/**
 * The byte-level field parsers of the results CSV reader (csv.ts). They read a cell straight from
 * the stream's buffer and leave their results in module scope, so that a row allocates nothing.
 */

export const COMMA = 44;
export const NEWLINE = 10;
export const CR = 13;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const NINE = 57;
export const MAX_FIELDS = 64;
const POW10 = [1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

export const EMPTY = -2;
export const INVALID = -1;
// Results of the field parsers, kept in module scope so that a row allocates nothing: `cursor` is
// the index of the comma that ends the field (or the line's end).
export let cursor = 0;
export let nsSeconds = 0;
export let nsNanos = 0;
export let fieldWasEmpty = false;

/** A non-negative integer field from `p`: its value, EMPTY, or INVALID (not digits, or beyond 2⁵³). */
export function fieldUint(buf: Buffer, p: number, e: number): number {
  let v = 0;
  let i = p;
  let bad = false;
  for (; i < e; i++) {
    const c = buf[i] as number;
    if (c === COMMA) break;
    if (c < ZERO || c > NINE) bad = true;
    else v = v * 10 + (c - ZERO);
  }
  cursor = i;
  if (bad) return INVALID;
  if (i === p) return EMPTY;
  return v <= Number.MAX_SAFE_INTEGER ? v : INVALID;
}

/** An integer ns timestamp field split into nsSeconds / nsNanos (last 9 digits): 0, EMPTY or INVALID. */
export function fieldNs(buf: Buffer, p: number, e: number): number {
  let q = p;
  while (q < e && buf[q] !== COMMA) q++;
  cursor = q;
  if (q === p) return EMPTY;
  const split = q - 9 > p ? q - 9 : p;
  let hi = 0;
  for (let i = p; i < split; i++) {
    const c = buf[i] as number;
    if (c < ZERO || c > NINE) return INVALID;
    hi = hi * 10 + (c - ZERO);
  }
  let lo = 0;
  for (let i = split; i < q; i++) {
    const c = buf[i] as number;
    if (c < ZERO || c > NINE) return INVALID;
    lo = lo * 10 + (c - ZERO);
  }
  nsSeconds = hi;
  nsNanos = lo;
  return 0;
}

/** ms from an event time (µs since the Unix epoch) to a timestamp split as seconds + ns, exact to the ns. */
export function msSinceEvent(seconds: number, nanos: number, eventUs: number): number {
  const eventSec = Math.floor(eventUs / 1e6);
  return ((seconds - eventSec) * 1e9 + (nanos - (eventUs - eventSec * 1e6) * 1000)) / 1e6;
}

export function latin1(buf: Buffer, s: number, e: number): string {
  return buf.toString('latin1', s, e);
}

/**
 * A decimal field: its value, or NaN (with fieldWasEmpty telling empty from invalid). Digits are
 * gathered into one integer and divided once by a power of ten: both are exact, so the one
 * rounding gives the same double as `parseFloat`.
 */
export function fieldDecimal(buf: Buffer, p: number, e: number): number {
  let i = p;
  let negative = false;
  if (i < e && buf[i] === MINUS) {
    negative = true;
    i++;
  }
  let mantissa = 0;
  let digits = 0;
  let scale = 0;
  let dot = false;
  let other = false;
  for (; i < e; i++) {
    const c = buf[i] as number;
    if (c >= ZERO && c <= NINE) {
      mantissa = mantissa * 10 + (c - ZERO);
      digits++;
      if (dot) scale++;
    } else if (c === COMMA) {
      break;
    } else if (c === DOT && !dot) {
      dot = true;
    } else {
      other = true;
    }
  }
  cursor = i;
  fieldWasEmpty = i === p;
  if (fieldWasEmpty) return NaN;
  if (other || digits > 15 || scale >= POW10.length) {
    // Exponents, long fractions, stray characters: the general (slower) path.
    const text = latin1(buf, p, i).trim();
    const value = text === '' ? NaN : Number(text);
    return Number.isFinite(value) ? value : NaN;
  }
  if (digits === 0) return NaN;
  const value = scale === 0 ? mantissa : mantissa / (POW10[scale] as number);
  return negative ? -value : value;
}

export function sameBytes(buf: Buffer, s: number, e: number, ref: Uint8Array): boolean {
  if (e - s !== ref.length) return false;
  for (let i = 0; i < ref.length; i++) if (buf[s + i] !== ref[i]) return false;
  return true;
}

/** Moves `cursor` to the end of the field from `p` without reading it (a text cell). */
export function skipField(buf: Buffer, p: number, e: number): void {
  let q = p;
  while (q < e && buf[q] !== COMMA) q++;
  cursor = q;
}
