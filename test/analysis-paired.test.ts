import { analyzePath, ArrivalEpoch, pairPaths, readPathColumns, type PathAnalysis } from '../lib/analysis';
import { CSV_HEADER, type PathName } from '../lib/samples';
import { csv, trade } from './analysis-fixtures';

async function analysis(path: PathName, text: string, epoch: ArrivalEpoch): Promise<PathAnalysis> {
  async function* chunks() {
    yield Buffer.from(text);
  }
  return analyzePath(path, await readPathColumns(chunks(), `${path}-results.csv`, { epoch }));
}

describe('paired analysis', () => {
  it('matches events by stream kind, symbol and id, and counts one-path-only events per path', async () => {
    // prepare: baseline has 1,2,3,5 (+ a duplicate 2); backbone has 2,3,4,5
    const epoch = new ArrivalEpoch();
    const baseline = await analysis(
      'baseline',
      csv([trade(1, 100_000), trade(2, 100_000), trade(2, 100_500), trade(3, 100_000), trade(5, 100_000)]),
      epoch,
    );
    const backbone = await analysis(
      'backbone',
      csv([trade(2, 98_000), trade(3, 101_000), trade(4, 99_000), trade(5, 99_000)]),
      epoch,
    );

    // act
    const { analysis: paired } = pairPaths(baseline.keys, backbone.keys);

    // assert
    expect(paired.matched).toBe(3);
    expect(paired.baseline_only).toBe(1);
    expect(paired.backbone_only).toBe(1);
    // deltas (ms): id 2 → −2 (first baseline arrival), id 3 → +1, id 5 → −1
    expect(paired.delta_ms?.median).toBe(-1);
    expect(paired.delta_ms?.min).toBe(-2);
    expect(paired.delta_ms?.max).toBe(1);
    expect(paired.backbone_first_share).toBeCloseTo(2 / 3, 12);
    expect(paired.baseline_first_share).toBeCloseTo(1 / 3, 12);
    expect(paired.per_stream).toEqual([
      { key: 'trade:btcusdt', matched: 3, baseline_only: 1, backbone_only: 1 },
    ]);
  });

  it('measures the delta to the ns from 19-digit receiver stamps', async () => {
    const epoch = new ArrivalEpoch();
    const header = CSV_HEADER;
    const row = (ns: string) => `7,1723100000000,,${ns},100.000,,btcusdt@trade,btcusdt,1723100000000000,\n`;
    const baseline = await analysis('baseline', `${header}\n${row('1723100000100000001')}`, epoch);
    const backbone = await analysis('backbone', `${header}\n${row('1723100000099999998')}`, epoch);

    const { analysis: paired } = pairPaths(baseline.keys, backbone.keys);

    expect(paired.delta_ms?.median).toBeCloseTo(-0.000003, 12);
  });

  it('does not match the same id on different streams', async () => {
    const epoch = new ArrivalEpoch();
    const agg = (id: number) => ({ ...trade(id, 100_000), stream: 'btcusdt@aggTrade' });
    const baseline = await analysis('baseline', csv([trade(1, 100_000), agg(1)]), epoch);
    const backbone = await analysis(
      'backbone',
      csv([trade(1, 99_000), { ...trade(1, 99_000), symbol: 'ethusdt', stream: 'ethusdt@trade' }]),
      epoch,
    );

    const { analysis: paired } = pairPaths(baseline.keys, backbone.keys);

    expect(paired.matched).toBe(1);
    expect(paired.baseline_only).toBe(1);
    expect(paired.backbone_only).toBe(1);
  });

  it('marks a median delta whose interval spans 0 as not significant', async () => {
    const epoch = new ArrivalEpoch();
    const ids = Array.from({ length: 400 }, (_, i) => i + 1);
    // backbone earlier on even ids, later on odd ones, by the same amount: median delta ≈ 0
    const baseline = await analysis('baseline', csv(ids.map((id) => trade(id, 100_000))), epoch);
    const backbone = await analysis(
      'backbone',
      csv(ids.map((id) => trade(id, id % 2 === 0 ? 99_000 : 101_000))),
      epoch,
    );

    const { analysis: paired } = pairPaths(baseline.keys, backbone.keys);

    expect(paired.median_delta_ci_ms?.low).toBeLessThan(0);
    expect(paired.median_delta_ci_ms?.high).toBeGreaterThan(0);
    expect(paired.significant).toBe(false);
  });
});
