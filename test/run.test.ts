/**
 * `feedpath run` end to end: the built command, real agent processes on loopback, the report.
 * These are the checks that the measurement is right: a run recovers the delays of its profile.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../lib/project-files';
import { runFileSchema } from '../lib/run-file';
import { feedpath, onlyRun, readJson } from './feedpath-cli';
import type { LabCheck } from '../lib/analysis/lab';
import { labHopsSchema, linkCompensationMs, type LoopbackHop } from '../lib/loopback-hop';

const CAPTURE = join(projectRoot(), '..', 'shared', 'data', 'binance-spot-btcusdt-20240808.gz');

function csvRows(file: string): string[][] {
  const lines = readFileSync(file, 'utf8').trim().split('\n');
  return lines.slice(1).map((line) => line.split(','));
}

/**
 * The capture's trades counted with this test's own code: per E second, and the largest number of
 * trades sharing one E millisecond (what report.json's market must say for a replay of it).
 */
function captureTradeCounts(file: string): { perSecond: Map<number, number>; largestBurst: number } {
  const perSecond = new Map<number, number>();
  const perMs = new Map<number, number>();
  for (const line of gunzipSync(readFileSync(file)).toString('utf8').split('\n')) {
    const json = line.slice(line.indexOf(' ') + 1);
    if (!json.includes('@trade')) continue;
    const { data } = JSON.parse(json) as { data: { E: number } };
    perSecond.set(Math.floor(data.E / 1000), (perSecond.get(Math.floor(data.E / 1000)) ?? 0) + 1);
    perMs.set(data.E, (perMs.get(data.E) ?? 0) + 1);
  }
  return { perSecond, largestBurst: Math.max(...perMs.values()) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = (sorted.length - 1) / 2;
  return ((sorted[Math.floor(mid)] as number) + (sorted[Math.ceil(mid)] as number)) / 2;
}

describe('feedpath run', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'feedpath-run-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it('recovers the delays of its link profile on both paths', async () => {
    const profile = join(out, 'profile.json');
    writeFileSync(
      profile,
      JSON.stringify({
        links: {
          'exchange-receiver': { delayMs: 40, jitterMs: 0.2 },
          'exchange-forwarder': { delayMs: 3, jitterMs: 0.1 },
          'forwarder-receiver': { delayMs: 25, jitterMs: 0.1 },
        },
      }),
    );

    const result = await feedpath(['run', '--duration', '8', '--profile', profile, '--out', out]);

    expect(result.stderr).not.toMatch(/feedpath: /);
    expect(result.code).toBe(0);
    const dir = onlyRun(out);
    const baseline = readJson(join(dir, 'baseline-results.json'));
    const backbone = readJson(join(dir, 'backbone-results.json'));
    // The run measured one loopback hop and each link took 2 hops off its delays (run.json `lab`).
    const hops = labHopsSchema.parse(readJson(join(dir, 'run.json')).lab);
    expect(hops.compensated).toBe(true);
    expect(hops.hop?.medianUs).toBeGreaterThan(0);
    const compensation = hops.linkCompensationMs;
    expect(compensation).toBe(linkCompensationMs(hops.hop as LoopbackHop));
    // A link never releases before read + delay − its compensation, so a median below that is a
    // measurement error; above it the lab's own overhead shows, which a busy machine inflates: that
    // side gets a margin that holds under load, and the tight figures belong to `npm run bench -- truth`.
    const recovers = (measured: unknown, delayMs: number, links = 1): string => {
      const m = measured as number;
      return m > delayMs - links * compensation - 0.2 && m < delayMs + 8
        ? 'recovered'
        : `${m} ms for a ${delayMs} ms delay`;
    };
    expect(recovers(baseline.median_latency_ms, 40)).toBe('recovered');
    expect(recovers(backbone.median_latency_ms, 28, 2)).toBe('recovered');
    expect(recovers(backbone.backbone_median_latency_ms, 25)).toBe('recovered');
    expect(baseline.events_lost).toBe(0);
    expect(backbone.events_lost).toBe(0);
    const baselineRows = csvRows(join(dir, 'baseline-results.csv'));
    const backboneRows = csvRows(join(dir, 'backbone-results.csv'));
    expect(baselineRows.length).toBe(baseline.sample_count);
    expect(backboneRows.length).toBe(backbone.sample_count);
    expect(baselineRows.length).toBeGreaterThan(100);

    // The paired delta, recomputed here from the raw CSVs: near 28 − 40 = −12 ms (both paths share
    // the receiver, so most of the lab's overhead cancels; the margin still allows for a busy machine).
    const arrival = new Map(baselineRows.map((row) => [row[0], BigInt(row[3] as string)]));
    const deltas = backboneRows
      .filter((row) => arrival.has(row[0]))
      .map((row) => Number(BigInt(row[3] as string) - (arrival.get(row[0]) as bigint)) / 1e6);
    expect(deltas.length).toBeGreaterThan(0.95 * baselineRows.length);
    expect(Math.abs(median(deltas) - -12)).toBeLessThan(4);
    const report = readJson(join(dir, 'report.json'));
    const paired = report.paired as { delta_ms: { median: number } };
    expect(paired.delta_ms.median).toBeCloseTo(median(deltas), 2);

    // The lab check: every path and leg matched to the link emulators' ground truth (lab/<link>.csv);
    // measured − applied is the lab's own overhead, never below 0 but for the µs the clocks of two
    // processes may disagree by (the upper side gets the busy-machine margin). Each link took the
    // run's compensation off every delay (all drawn delays here exceed it), and the residual
    // (measured − the profile's delay) is the overhead less that, per message.
    const lab = report.lab as LabCheck;
    const linksOf = {
      baseline: 1,
      backbone: 2,
      exchange_to_forwarder: 1,
      forwarder_to_receiver: 1,
      paired_delta: 1,
    };
    for (const [key, leg] of Object.entries(lab.overhead)) {
      expect(leg?.matched).toBeGreaterThan(0.95 * baselineRows.length);
      expect(leg?.overhead_ms?.median).toBeGreaterThan(-0.2);
      expect(leg?.overhead_ms?.median).toBeLessThan(8);
      const taken = linksOf[key as keyof typeof linksOf] * compensation;
      expect(leg?.compensation_ms?.median).toBeCloseTo(taken, 6);
      expect(leg?.residual_ms?.median).toBeCloseTo((leg?.overhead_ms?.median as number) - taken, 6);
    }
    expect(Object.keys(lab.links).sort()).toEqual([
      'exchange-forwarder',
      'exchange-receiver',
      'forwarder-receiver',
    ]);
    expect(report.verdict).toMatch(/Lab check: the lab itself added .* after the links' hop compensation/);

    expect(result.stdout).toMatch(/Backbone/);
    expect(existsSync(join(dir, 'report.html'))).toBe(true);

    // The A/A control (on by default) and connection identity: every row of the three files names
    // its connection, and run.json lists each connection with the addresses its socket had.
    const connection = readFileSync(join(dir, 'baseline-results.csv'), 'utf8')
      .split('\n', 1)[0]
      ?.split(',')
      .indexOf('connection') as number;
    const controlRows = csvRows(join(dir, 'control-results.csv'));
    expect(controlRows.length).toBeGreaterThan(0.95 * baselineRows.length);
    expect(readJson(join(dir, 'control-results.json')).setup_type).toBe('control');
    for (const rows of [baselineRows, backboneRows, controlRows])
      expect(new Set(rows.map((row) => row[connection]))).toEqual(new Set(['1']));
    const run = runFileSchema.parse(readJson(join(dir, 'run.json')));
    const endpoint = { address: '127.0.0.1', port: expect.any(Number) };
    expect(run.connections?.map((c) => `${c.agent} ${c.feed} ${c.ordinal}`).sort()).toEqual([
      'forwarder backbone 1',
      'forwarder relay 1',
      'receiver baseline 1',
      'receiver control 1',
      'receiver relay 1',
    ]);
    for (const c of run.connections ?? []) {
      expect(c).toMatchObject({ remote: endpoint, local: endpoint, close_reason: expect.any(String) });
    }
  }, 90_000);

  (existsSync(CAPTURE) ? it : it.skip)(
    'replays a real capture at 20× and yields every trade on both paths',
    async () => {
      const result = await feedpath(
        ['run', '--replay', CAPTURE, '--speed', '20', '--duration', '120', '--out', out],
        { timeoutMs: 110_000 },
      );

      expect(result.code).toBe(0);
      const dir = onlyRun(out);
      const run = readJson(join(dir, 'run.json'));
      expect(run.endedBy).toBe('replay-finished');
      expect((run.replay as { skipped: { nonStream: number } }).skipped.nonStream).toBe(1);
      for (const path of ['baseline', 'backbone']) {
        const summary = readJson(join(dir, `${path}-results.json`));
        expect(summary.sample_count).toBe(9757);
        expect(summary.events_lost).toBe(0);
        const ids = csvRows(join(dir, `${path}-results.csv`)).map((row) => Number(row[0]));
        expect(new Set(ids).size).toBe(9757);
        expect(Math.min(...ids)).toBe(3735683259);
        expect(Math.max(...ids)).toBe(3735683259 + 9756);
      }
      expect(result.stderr).toMatch(/1 line skipped \(not a stream message\)/);

      // The market context is the capture's: its events per second and its largest burst.
      const market = readJson(join(dir, 'report.json')).market as {
        events: number;
        largest_burst: { events: number };
        per_second: { second: number; events: number }[];
        by_state: { states: { state: string; events: number }[] };
      };
      const expected = captureTradeCounts(CAPTURE);
      expect(market.events).toBe(9757);
      expect(market.largest_burst.events).toBe(expected.largestBurst);
      expect(new Map(market.per_second.map((s) => [s.second, s.events]))).toEqual(expected.perSecond);
      expect(market.by_state.states.map((s) => s.state)).toEqual(['burst', 'single', 'busy', 'rest']);
      const html = readFileSync(join(dir, 'report.html'), 'utf8');
      const latencyFigure = html.slice(html.indexOf('data-chart="latency-over-time"'));
      expect(latencyFigure.slice(0, latencyFigure.indexOf('</figure>'))).toContain('Market activity');
      expect(html).toContain('Latency by market state');
    },
    120_000,
  );

  it('rejects an unknown option with one clear line', async () => {
    const result = await feedpath(['run', '--durration', '5']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown option '--durration'/);
    expect(result.stderr).not.toMatch(/at .*\.js:\d+/);
  });

  it('names the bad field of a malformed profile', async () => {
    const profile = join(out, 'bad.json');
    writeFileSync(profile, JSON.stringify({ links: { 'exchange-receiver': { delayMs: -3 } } }));
    const result = await feedpath(['run', '--profile', profile, '--out', out]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/links\.exchange-receiver\.delayMs/);
    expect(result.stderr).toMatch(/FP_BAD_PROFILE/);
  });

  it('fails clearly when the exchange cannot be reached', async () => {
    const result = await feedpath(
      ['run', '--exchange', 'ws://127.0.0.1:9', '--duration', '30', '--out', out],
      { timeoutMs: 60_000 },
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/FP_EXCHANGE_UNREACHABLE|unreachable/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
