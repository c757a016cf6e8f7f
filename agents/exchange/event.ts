/**
 * What a market source (the synthetic market, the capture replay) hands the exchange's server: its
 * own module, so that a source depends on this contract and not on the server that sends it.
 */
import type { StreamKind } from '../../lib/binance';

/** One exchange event, as a source hands it to the server. */
export interface ExchangeEvent {
  /** Stream name, e.g. `btcusdt@trade`. */
  stream: string;
  kind: StreamKind;
  /**
   * The message body in Binance's field order. If it has `E`, `E` is set at send to the wall clock
   * in the client's unit; `T` too when {@link tradeTimeUs} or {@link tradeLagUs} is given.
   */
  data: Record<string, unknown>;
  /** Trade time T as an absolute wall-clock instant, µs. */
  tradeTimeUs?: number;
  /** Trade time T as a distance before E, µs (replay: T keeps its recorded distance to E). */
  tradeLagUs?: number;
}

/** Something that reads the wall clock in µs (lib/clock's WallClock). */
export interface MicrosecondClock {
  nowUs(): number;
}
