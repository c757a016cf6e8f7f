/**
 * The market context (lib/analysis/market.ts): counted from results files written by the receiver's
 * own formatter, the latency by market state, and the verdict's clause.
 */
import { Readable } from 'node:stream';
import { analyzeRun, ArrivalEpoch, analyzePath, readPathColumns } from '../lib/analysis';
import { IN_BURST, IN_BUSY_SECOND } from '../lib/analysis/market';
import { latencyByMarketState, marketStateClause } from '../lib/analysis/market-state';
import { matchedRows } from '../lib/analysis/paired';
import type { Sample } from '../lib/samples';
import { LocalFolderStore } from '../lib/store';
import { csv, E0_US, mulberry32, removeDir, tempDir, trade, writeFiles } from './analysis-fixtures';

/** A trade at `eUs` with its price and quantity, received `latencyUs` later. */
function priced(id: number, eUs: number, price: string, quantity: string, latencyUs = 100_000): Sample {
  return { ...trade(id, latencyUs, { eUs }), price, quantity };
}

async function columnsOf(samples: Sample[], epoch = new ArrivalEpoch()) {
  return readPathColumns(Readable.from([csv(samples)]), 'baseline-results.csv', { epoch });
}

describe('market context', () => {
  it('counts events per second, bursts, volume and prices by the exchange time', async () => {
    // prepare: second 0 has a burst of 3 and a single trade, second 1 is quiet, second 2 a burst
    // of 2, second 3 one trade; trade 4 is recorded twice
    const samples = [
      priced(1, E0_US + 100_000, '100.00', '1'),
      priced(2, E0_US + 100_400, '101.00', '2'),
      priced(3, E0_US + 100_900, '99.00', '3'),
      priced(4, E0_US + 500_000, '102.00', '0.5'),
      priced(4, E0_US + 500_000, '102.00', '0.5'),
      priced(5, E0_US + 2_001_000, '98.00', '1'),
      priced(6, E0_US + 2_001_000, '97.00', '1'),
      priced(7, E0_US + 3_000_000, '99.00', '1'),
    ];

    // act
    const analysis = analyzePath('baseline', await columnsOf(samples));

    // assert
    const market = analysis.market?.context;
    expect(market).toMatchObject({
      events: 7,
      seconds: 4,
      events_per_second: { median: 1.5, max: 4 },
      bursts: 2,
      burst_share: 5 / 7,
      largest_burst: { events: 3, stream: 'btcusdt@trade', at: new Date(E0_US / 1000 + 100).toISOString() },
      busy_threshold_events_per_s: 4,
      busy_seconds: 1,
      trades: 7,
      volume: 9.5,
    });
    expect(market?.streams[0]).toMatchObject({ price_low: 97, price_high: 102, price_change: -1 });
    expect(market?.per_second.map((s) => [s.second - E0_US / 1e6, s.events, s.largest_burst])).toEqual([
      [0, 4, 3],
      [2, 2, 2],
      [3, 1, 1],
    ]);
    expect(market?.per_second[0]).toMatchObject({ price_low: 99, price_high: 102, price_change: 2 });
    const state = Array.from(analysis.market?.rowState ?? []);
    expect(state.slice(0, 4)).toEqual([
      IN_BURST | IN_BUSY_SECOND,
      IN_BURST | IN_BUSY_SECOND,
      IN_BURST | IN_BUSY_SECOND,
      IN_BUSY_SECOND,
    ]);
    expect(state.slice(5)).toEqual([IN_BURST, IN_BURST, 0]);
  });

  it('has no trades, volume or prices for a stream without them, and no market without event times', async () => {
    const noPrice = analyzePath('baseline', await columnsOf([trade(1, 100_000), trade(2, 100_000)]));
    expect(noPrice.market?.context).toMatchObject({ events: 2, trades: 2, volume: 0 });
    expect(noPrice.market?.context.streams[0]?.price_first).toBeNull();

    const book: Sample = { ...trade(1, 100_000), stream: 'btcusdt@bookTicker', exchangeTimeUs: undefined };
    const noTime = analyzePath('baseline', await columnsOf([book]));
    expect(noTime.market).toBeNull();
  });
});

describe('latency by market state', () => {
  /**
   * 20 s of trades: each second a burst of 5 trades in one ms and 10 single trades; the backbone
   * is `burstLeadUs` ahead of the baseline in bursts and 1 ms ahead otherwise.
   */
  function run(burstLeadUs: number): { baseline: Sample[]; backbone: Sample[] } {
    const uniform = mulberry32(3);
    const baseline: Sample[] = [];
    const backbone: Sample[] = [];
    let id = 0;
    for (let second = 0; second < 20; second++) {
      const times = [
        ...Array.from({ length: 5 }, () => 100_000),
        ...Array.from({ length: 10 }, (_, k) => 200_000 + k * 50_000),
      ];
      times.forEach((offsetUs, k) => {
        id += 1;
        const eUs = E0_US + second * 1_000_000 + offsetUs;
        const latencyUs = 100_000 + Math.round(uniform() * 2000);
        const lead = k < 5 ? burstLeadUs : 1000;
        baseline.push(trade(id, latencyUs, { eUs }));
        backbone.push(trade(id, latencyUs - lead, { eUs, legUs: 90_000 }));
      });
    }
    return { baseline, backbone };
  }

  it('splits each path and the delta by bursts, and sees the lead grow in bursts', async () => {
    const { baseline, backbone } = run(5000);
    const epoch = new ArrivalEpoch();
    const a = analyzePath('baseline', await columnsOf(baseline, epoch), { keepLatency: true });
    const b = analyzePath('backbone', await columnsOf(backbone, epoch));

    const byState = latencyByMarketState(a.keys, b.keys, matchedRows(a.keys, b.keys), {
      source: 'baseline',
      rowState: a.market?.rowState ?? new Uint8Array(),
    });

    const burst = byState?.states.find((s) => s.state === 'burst');
    const single = byState?.states.find((s) => s.state === 'single');
    expect(burst?.events).toBe(100);
    expect(single?.events).toBe(200);
    expect(burst?.delta.median_ms).toBeCloseTo(-5, 6);
    expect(single?.delta.median_ms).toBeCloseTo(-1, 6);
    // The backbone's latency is the baseline's plus the delta, event by event.
    expect((burst?.baseline.median_ms ?? 0) - (burst?.backbone.median_ms ?? 0)).toBeCloseTo(5, 1);
    expect(byState?.changes).toContainEqual({ split: 'bursts', state: 'burst', other: 'single' });
    const clause = marketStateClause({ market: { ...a.market!.context, by_state: byState } });
    expect(clause).toMatch(
      /^the backbone’s lead grows to 5\.00 ms in bursts, from 1\.00 ms in single events/,
    );
  });

  it('names the change in the verdict, and says nothing when the lead is the same in every state', async () => {
    for (const [lead, expected] of [
      [5000, /Note: with the market, the backbone’s lead grows to 5\.00 ms in bursts/],
      [1000, null],
    ] as const) {
      const dir = await tempDir();
      try {
        const { baseline, backbone } = run(lead);
        await writeFiles(dir, {
          'baseline-results.csv': csv(baseline),
          'backbone-results.csv': csv(backbone),
        });

        const { report } = await analyzeRun(new LocalFolderStore(dir), '');

        if (expected === null) expect(report.verdict).not.toContain('with the market');
        else expect(report.verdict).toMatch(expected);
        // Every second has 15 events: all tie at the threshold, so all are "busy" and no "rest" row.
        expect(report.market?.by_state?.states.map((s) => s.state)).toEqual(['burst', 'single', 'busy']);
      } finally {
        await removeDir(dir);
      }
    }
  });
});
