/**
 * A synthetic market: for each symbol, Poisson trades, occasional sweeps (one taker order filled
 * against hundreds of makers in the same millisecond: the bursts that stress a feed), bookTicker
 * updates and a depth@100ms diff every 100 ms, at plausible prices.
 *
 * The model ({@link SyntheticMarket}) is pure and seeded: it yields batches in virtual time, and the
 * same seed gives the same batches. The feed ({@link SyntheticFeed}) plays them against the clock.
 * Ids follow Binance's rules: trade ids and aggTrade ids contiguous per symbol, an aggTrade covering
 * trades f..l, one update-id sequence per symbol shared by bookTicker `u` and depth `U`/`u` (so
 * bookTicker `u` skips, and each depth message starts at the previous `u` + 1).
 */
import type { StreamKind } from '../../lib/binance';
import type { SyntheticSource } from './config';
import type { ExchangeEvent, MicrosecondClock } from './event';
import { deriveSeedFromString, exponential, mulberry32, normalBoxMuller } from '../../lib/random';

/** Binance sends depth diffs every 100 ms on `@depth@100ms`. */
export const DEPTH_INTERVAL_MS = 100;
/** Fills per price level in a sweep, at most (the number is drawn uniformly from 1 to this). */
const MAX_FILLS_PER_LEVEL = 25;
/** Where a symbol's price starts, when it is one of these; other symbols start at 100. */
const START_PRICES: Readonly<Record<string, number>> = {
  btcusdt: 60_000,
  ethusdt: 2_700,
  bnbusdt: 520,
  solusdt: 150,
  xrpusdt: 0.6,
  adausdt: 0.35,
  dogeusdt: 0.1,
};
const DEFAULT_START_PRICE = 100;
/** A trade's typical notional, in quote currency. */
const TYPICAL_NOTIONAL = 200;

/** A batch of events of one instant, in virtual time. */
export interface SyntheticBatch {
  /** Milliseconds since the market opened. */
  atMs: number;
  /** Trade events carry `tradeTimeUs` relative to the opening (the feed adds the wall-clock start). */
  events: ExchangeEvent[];
}

/** Formats an integer number of 10^-decimals units with Binance's 8 decimals ("61837.63000000"). */
function formatUnits(units: number, decimals: number): string {
  const scale = 10 ** decimals;
  const whole = Math.floor(units / scale);
  const fraction = String(units - whole * scale).padStart(decimals, '0');
  return `${whole}.${fraction}${'0'.repeat(8 - decimals)}`;
}

function priceDecimals(price: number): number {
  if (price >= 10) return 2;
  if (price >= 1) return 3;
  if (price >= 0.1) return 4;
  return 5;
}

function quantityDecimals(price: number): number {
  if (price >= 10_000) return 5;
  if (price >= 100) return 4;
  if (price >= 1) return 2;
  return 0;
}

type Process = 'trade' | 'sweep' | 'bookTicker' | 'depth';
const PROCESSES: readonly Process[] = ['trade', 'sweep', 'bookTicker', 'depth'];

class SymbolMarket {
  readonly upper: string;
  private readonly rng: () => number;
  private readonly priceDecimals: number;
  private readonly quantityDecimals: number;
  private readonly typicalUnits: number;
  private bid: number;
  private spread = 1;
  private bidUnits: number;
  private askUnits: number;
  private tradeId: number;
  private aggId: number;
  private updateId: number;
  private lastDepthU: number;
  /** Levels changed since the last depth message: price ticks → quantity units. */
  private readonly changedBids = new Map<number, number>();
  private readonly changedAsks = new Map<number, number>();
  readonly due: Record<Process, number> = {
    trade: Infinity,
    sweep: Infinity,
    bookTicker: Infinity,
    depth: Infinity,
  };

  constructor(
    readonly symbol: string,
    seed: number,
    private readonly source: SyntheticSource,
  ) {
    this.upper = symbol.toUpperCase();
    // Each symbol gets its own deterministic sequence.
    this.rng = mulberry32(deriveSeedFromString(seed, symbol));
    const price = START_PRICES[symbol] ?? DEFAULT_START_PRICE;
    this.priceDecimals = priceDecimals(price);
    this.quantityDecimals = quantityDecimals(price);
    this.typicalUnits = Math.max(1, Math.round((TYPICAL_NOTIONAL / price) * 10 ** this.quantityDecimals));
    this.bid = Math.round(price * 10 ** this.priceDecimals);
    this.bidUnits = this.quantity();
    this.askUnits = this.quantity();
    // Large ids, as a market that has been open for years has.
    this.tradeId = 1_000_000_000 + Math.floor(this.rng() * 1_000_000_000);
    this.aggId = 500_000_000 + Math.floor(this.rng() * 500_000_000);
    this.updateId = 10_000_000_000 + Math.floor(this.rng() * 10_000_000_000);
    this.lastDepthU = this.updateId;
    const { tradesPerSecond, burstSize, burstIntervalMs, bookTickerPerSecond } = source;
    if (tradesPerSecond > 0) this.due.trade = this.exponential(1000 / tradesPerSecond);
    if (burstSize > 0 && burstIntervalMs > 0) this.due.sweep = this.exponential(burstIntervalMs);
    if (bookTickerPerSecond > 0) this.due.bookTicker = this.exponential(1000 / bookTickerPerSecond);
    this.due.depth = DEPTH_INTERVAL_MS;
  }

  /** Runs one process at its due time; returns its events and schedules its next turn. */
  run(process: Process): ExchangeEvent[] {
    const atMs = this.due[process];
    const { tradesPerSecond, burstSize, burstIntervalMs, bookTickerPerSecond } = this.source;
    switch (process) {
      case 'trade':
        this.due.trade = atMs + this.exponential(1000 / tradesPerSecond);
        return this.takerOrder(atMs, 1);
      case 'sweep':
        this.due.sweep = atMs + this.exponential(burstIntervalMs);
        return this.takerOrder(atMs, burstSize);
      case 'bookTicker':
        this.due.bookTicker = atMs + this.exponential(1000 / bookTickerPerSecond);
        return [this.bookTicker()];
      case 'depth':
        this.due.depth = atMs + DEPTH_INTERVAL_MS;
        return [this.depthUpdate()];
    }
  }

  /** A taker order filled by `fills` trades, walking the book a level at a time (one level for 1 fill). */
  private takerOrder(atMs: number, fills: number): ExchangeEvent[] {
    const tradeTimeUs = Math.floor(atMs * 1000);
    const buy = this.rng() < 0.5;
    // `m`: the buyer is the maker, i.e. the taker sold.
    const m = !buy;
    const step = buy ? 1 : -1;
    let level = buy ? this.bid + this.spread : this.bid;
    let remaining = fills;
    const trades: ExchangeEvent[] = [];
    const aggTrades: ExchangeEvent[] = [];
    while (remaining > 0) {
      const atLevel = fills === 1 ? 1 : Math.min(remaining, 1 + Math.floor(this.rng() * MAX_FILLS_PER_LEVEL));
      const p = formatUnits(level, this.priceDecimals);
      const first = this.tradeId + 1;
      let levelUnits = 0;
      for (let i = 0; i < atLevel; i += 1) {
        this.tradeId += 1;
        const units = this.quantity();
        levelUnits += units;
        const q = formatUnits(units, this.quantityDecimals);
        trades.push(
          this.event('trade', tradeTimeUs, {
            e: 'trade',
            E: 0,
            s: this.upper,
            t: this.tradeId,
            p,
            q,
            T: 0,
            m,
            M: true,
          }),
        );
      }
      this.aggId += 1;
      const q = formatUnits(levelUnits, this.quantityDecimals);
      aggTrades.push(
        this.event('aggTrade', tradeTimeUs, {
          e: 'aggTrade',
          E: 0,
          s: this.upper,
          a: this.aggId,
          p,
          q,
          f: first,
          l: this.tradeId,
          T: 0,
          m,
          M: true,
        }),
      );
      remaining -= atLevel;
      this.updateId += 1;
      const exhausted = fills > 1 || this.rng() < 0.15;
      if (exhausted) {
        (buy ? this.changedAsks : this.changedBids).set(level, 0);
        level += step;
      } else {
        (buy ? this.changedAsks : this.changedBids).set(level, this.quantity());
      }
    }
    if (buy) this.bid = level - this.spread;
    else this.bid = level;
    this.changedBids.set(this.bid, (this.bidUnits = this.quantity()));
    this.changedAsks.set(this.bid + this.spread, (this.askUnits = this.quantity()));
    return [...trades, ...aggTrades];
  }

  private bookTicker(): ExchangeEvent {
    // Deeper levels change too: bookTicker `u` is not contiguous.
    this.updateId += 1 + Math.floor(this.exponential(3));
    const r = this.rng();
    if (r < 0.1) {
      this.bid += this.rng() < 0.5 ? 1 : -1;
      this.bidUnits = this.quantity();
      this.askUnits = this.quantity();
      this.changedBids.set(this.bid, this.bidUnits);
      this.changedAsks.set(this.bid + this.spread, this.askUnits);
    } else if (r < 0.55) {
      this.bidUnits = this.quantity();
      this.changedBids.set(this.bid, this.bidUnits);
    } else {
      this.askUnits = this.quantity();
      this.changedAsks.set(this.bid + this.spread, this.askUnits);
    }
    return {
      stream: `${this.symbol}@bookTicker`,
      kind: 'bookTicker',
      data: {
        u: this.updateId,
        s: this.upper,
        b: formatUnits(this.bid, this.priceDecimals),
        B: formatUnits(this.bidUnits, this.quantityDecimals),
        a: formatUnits(this.bid + this.spread, this.priceDecimals),
        A: formatUnits(this.askUnits, this.quantityDecimals),
      },
    };
  }

  private depthUpdate(): ExchangeEvent {
    // Orders come and go deeper in the book all the time.
    const deeper = 1 + Math.floor(this.rng() * 6);
    for (let i = 0; i < deeper; i += 1) {
      const distance = 1 + Math.floor(this.rng() * 50);
      const units = this.rng() < 0.3 ? 0 : this.quantity();
      if (this.rng() < 0.5) this.changedBids.set(this.bid - distance, units);
      else this.changedAsks.set(this.bid + this.spread + distance, units);
      this.updateId += 1;
    }
    const U = this.lastDepthU + 1;
    this.lastDepthU = this.updateId;
    const levels = (changed: Map<number, number>, descending: boolean): string[][] => {
      const prices = [...changed.keys()].sort((x, y) => (descending ? y - x : x - y));
      return prices.map((price) => [
        formatUnits(price, this.priceDecimals),
        formatUnits(changed.get(price) ?? 0, this.quantityDecimals),
      ]);
    };
    const b = levels(this.changedBids, true);
    const a = levels(this.changedAsks, false);
    this.changedBids.clear();
    this.changedAsks.clear();
    return {
      stream: `${this.symbol}@depth@100ms`,
      kind: 'depth',
      data: { e: 'depthUpdate', E: 0, s: this.upper, U, u: this.updateId, b, a },
    };
  }

  private event(kind: StreamKind, tradeTimeUs: number, data: Record<string, unknown>): ExchangeEvent {
    return { stream: `${this.symbol}@${kind}`, kind, data, tradeTimeUs };
  }

  /** A quantity in lot units: log-normal around the typical notional. */
  private quantity(): number {
    return Math.max(1, Math.round(this.typicalUnits * Math.exp(1.2 * normalBoxMuller(this.rng))));
  }

  private exponential(mean: number): number {
    return exponential(this.rng, mean);
  }
}

/** The seeded market model: an endless sequence of batches in virtual time. */
export class SyntheticMarket {
  private readonly markets: SymbolMarket[];

  constructor(source: SyntheticSource) {
    this.markets = source.symbols.map((symbol) => new SymbolMarket(symbol, source.seed, source));
  }

  /** The next batch: every event of the earliest due process (ties: symbol order, then process order). */
  next(): SyntheticBatch {
    let best: SymbolMarket | undefined;
    let bestProcess: Process = 'depth';
    let bestAt = Infinity;
    for (const market of this.markets) {
      for (const process of PROCESSES) {
        if (market.due[process] < bestAt) {
          best = market;
          bestProcess = process;
          bestAt = market.due[process];
        }
      }
    }
    // Depth is always scheduled, so there is always a process.
    const events = (best as SymbolMarket).run(bestProcess);
    return { atMs: bestAt, events };
  }
}

/** Plays a {@link SyntheticMarket} against the clock: each batch goes out when its time comes. */
export class SyntheticFeed {
  private timer: NodeJS.Timeout | undefined;
  private startHr = 0n;
  private startUs = 0;
  private pending: SyntheticBatch | undefined;
  private stopped = false;

  constructor(
    private readonly market: SyntheticMarket,
    private readonly publish: (event: ExchangeEvent) => void,
    private readonly clock: MicrosecondClock,
  ) {}

  start(): void {
    // Wall clock first: a batch's trade time (start + its due time) is then never after its send.
    this.startUs = this.clock.nowUs();
    this.startHr = process.hrtime.bigint();
    this.pending = this.market.next();
    this.tick();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private readonly tick = (): void => {
    if (this.stopped) return;
    // Due times count from the start instant, so late timers never add up to drift.
    const elapsedMs = Number(process.hrtime.bigint() - this.startHr) / 1e6;
    let batch = this.pending as SyntheticBatch;
    while (batch.atMs <= elapsedMs) {
      for (const event of batch.events) {
        if (event.tradeTimeUs !== undefined) event.tradeTimeUs += this.startUs;
        this.publish(event);
      }
      batch = this.market.next();
    }
    this.pending = batch;
    this.timer = setTimeout(this.tick, Math.max(1, Math.ceil(batch.atMs - elapsedMs)));
  };
}
