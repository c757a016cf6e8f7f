/**
 * Spotting Binance's `serverShutdown` notice without parsing every message: the feed's hot path
 * only hands bytes on, so this looks at a few bytes where the event type sits.
 *
 * Binance writes the event type first: raw `{"e":"trade",…`, combined
 * `{"stream":"<name>","data":{"e":"trade",…`, spot bookTicker `{"u":…` (no `e`). No market event
 * type starts with `s`, so `s` as the type's first letter, or a WebSocket-API-style `{"event":{…}}`
 * wrapper, makes a candidate; {@link isServerShutdown} then confirms on the (rare) candidate.
 */
const QUOTE = '"'.charCodeAt(0);
const LETTER_E = 'e'.charCodeAt(0);
const LETTER_S = 's'.charCodeAt(0);
const LETTER_V = 'v'.charCodeAt(0);
/** `{"stream":"` */
const STREAM_NAME_START = 11;
/** From the closing quote of the stream name to the type's first letter: `","data":{"e":"` = 15. */
const COMBINED_TYPE_OFFSET = 15;

/** True when a message may be a control message; false for every market data message. */
export function isControlCandidate(data: Buffer): boolean {
  if (data.length < 8) return false;
  const key = data[2];
  if (key === LETTER_E) return data[6] === LETTER_S || data[3] === LETTER_V;
  if (key === LETTER_S) {
    const end = data.indexOf(QUOTE, STREAM_NAME_START);
    return end > 0 && data[end + COMBINED_TYPE_OFFSET] === LETTER_S;
  }
  return false;
}

/** Whether a control candidate is a `serverShutdown` notice. */
export function isServerShutdown(data: Buffer): boolean {
  return data.includes('"serverShutdown"');
}
