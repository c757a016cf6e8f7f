/** Limits more than one agent holds to: the exchange simulator keeps them, the feed copes with them. */

/** A Binance connection lives at most 24 h (the simulator closes it then; the feed rolls over before). */
export const DEFAULT_MAX_CONNECTION_MS = 24 * 60 * 60 * 1000;
/** Node timers overflow above this (≈24.8 days): the bound of every configured duration. */
export const MAX_TIMER_MS = 2 ** 31 - 1;
