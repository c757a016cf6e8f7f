/**
 * `feedpath run --receivers`: one exchange, one forwarder relaying to three receivers, each with
 * its own links. Each receiver's run must recover its own profile, as a single-receiver run does
 * (test/run.test.ts), and the matrix report must sum them up.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LabCheck } from '../lib/analysis/lab';
import { parseHistoryRecord } from '../lib/history/record';
import { labHopsSchema } from '../lib/loopback-hop';
import { receiversProfile } from '../lib/profile';
import type { MatrixReport } from '../lib/report/matrix';
import { runFileSchema } from '../lib/run-file';
import { feedpath, onlyRun, readJson } from './feedpath-cli';

/** Three receivers with distinct delays: backbone faster for two, the internet for one. */
const PROFILE = receiversProfile({
  exchangeForwarder: { delayMs: 3, jitterMs: 0.1 },
  jitterMs: { 'exchange-receiver': 0.2, 'forwarder-receiver': 0.1 },
  // The backbone adds the exchange-forwarder's 3 ms: 15 ms against 20 (alpha), 43 against 35
  // (beta, the internet wins), 28 against 50 (gamma).
  delayMs: {
    alpha: { 'exchange-receiver': 20, 'forwarder-receiver': 12 },
    beta: { 'exchange-receiver': 35, 'forwarder-receiver': 40 },
    gamma: { 'exchange-receiver': 50, 'forwarder-receiver': 25 },
  },
});
const NAMES = ['alpha', 'beta', 'gamma'];
const RECEIVER_FILES = [
  'baseline-results.csv',
  'baseline-results.json',
  'backbone-results.csv',
  'backbone-results.json',
  'control-results.csv',
  'control-results.json',
  'metrics/receiver.json',
  'lab/exchange-receiver.csv',
  'lab/exchange-receiver.clients.csv',
  'lab/forwarder-receiver.csv',
  'lab/exchange-forwarder.csv',
  'report.json',
  'report.html',
];

describe('feedpath run --receivers', () => {
  let out: string;
  beforeEach(() => {
    out = mkdtempSync(join(tmpdir(), 'feedpath-receivers-'));
  });
  afterEach(() => rmSync(out, { recursive: true, force: true }));

  it("recovers each receiver's delays and writes the matrix report", async () => {
    const profile = join(out, 'profile.json');
    writeFileSync(profile, JSON.stringify(PROFILE));

    const result = await feedpath(['run', '--duration', '8', '--profile', profile, '--out', out], {
      timeoutMs: 85_000,
    });

    expect(result.stderr).not.toMatch(/feedpath: /);
    expect(result.code).toBe(0);
    const dir = onlyRun(out);
    expect(result.stderr).toMatch(/start receivers alpha, beta, gamma/);
    expect(result.stderr).toMatch(/start forwarder \(relaying to 3 receivers\)/);
    const run = runFileSchema.parse(readJson(join(dir, 'run.json')));
    expect(run.receivers?.map((r) => r.name)).toEqual(NAMES);
    expect(run.status).toBe('succeeded');
    // The receivers' files are in their folders, none at the top (the forwarder's stay there).
    expect(existsSync(join(dir, 'baseline-results.csv'))).toBe(false);
    expect(existsSync(join(dir, 'metrics', 'forwarder.json'))).toBe(true);
    expect(readdirSync(join(dir, 'receivers')).sort()).toEqual(NAMES);
    const compensation = labHopsSchema.parse(run.lab).linkCompensationMs;

    // The bounds of test/run.test.ts: never below the delay less the links' compensation (the
    // clocks of two processes may disagree by µs), and a margin above it that holds under load.
    const recovers = (measured: unknown, delayMs: number, links = 1): string => {
      const m = measured as number;
      return m > delayMs - links * compensation - 0.2 && m < delayMs + 8
        ? 'recovered'
        : `${m} ms for a ${delayMs} ms delay`;
    };
    const matrix = readJson(join(dir, 'report.json')) as unknown as MatrixReport;
    for (const name of NAMES) {
      const folder = join(dir, 'receivers', name);
      for (const file of RECEIVER_FILES)
        expect(`${name}/${file} ${existsSync(join(folder, file))}`).toBe(`${name}/${file} true`);
      const links = PROFILE.receivers?.[name]?.links;
      const internet = links?.['exchange-receiver']?.delayMs as number;
      const relay = links?.['forwarder-receiver']?.delayMs as number;
      const baseline = readJson(join(folder, 'baseline-results.json'));
      const backbone = readJson(join(folder, 'backbone-results.json'));
      expect(`${name} ${recovers(baseline.median_latency_ms, internet)}`).toBe(`${name} recovered`);
      expect(`${name} ${recovers(backbone.median_latency_ms, 3 + relay, 2)}`).toBe(`${name} recovered`);
      expect(`${name} ${recovers(backbone.backbone_median_latency_ms, relay)}`).toBe(`${name} recovered`);
      expect(baseline.events_lost).toBe(0);
      expect(backbone.events_lost).toBe(0);
      expect(baseline.sample_count).toBeGreaterThan(100);

      // The receiver's own report: its paired delta near its profile's, and its lab check matched
      // every leg against the links' truth (the shared exchange-forwarder link's copy included).
      const report = readJson(join(folder, 'report.json'));
      const paired = report.paired as { delta_ms: { median: number } };
      expect(Math.abs(paired.delta_ms.median - (3 + relay - internet))).toBeLessThan(4);
      const lab = report.lab as LabCheck;
      expect(Object.keys(lab.links).sort()).toEqual([
        'exchange-forwarder',
        'exchange-receiver',
        'forwarder-receiver',
      ]);
      for (const leg of Object.values(lab.overhead)) {
        expect(leg?.matched).toBeGreaterThan(0.95 * (baseline.sample_count as number));
        expect(leg?.overhead_ms?.median).toBeGreaterThan(-0.2);
        expect(leg?.overhead_ms?.median).toBeLessThan(8);
      }

      // The matrix row is the receiver's report's, linked to it.
      const row = matrix.matrix.find((r) => r.receiver === name);
      expect(row?.median_delta_ms).toBe(paired.delta_ms.median);
      expect(matrix.receivers[name]?.verdict).toBe(report.verdict);
    }
    expect(matrix.matrix.map((r) => r.receiver)).toEqual(NAMES);
    expect(matrix.matrix.find((r) => r.receiver === 'beta')?.judgement).toBe('baseline faster');
    expect(matrix.matrix.find((r) => r.receiver === 'gamma')?.judgement).toBe('backbone faster');
    expect(existsSync(join(dir, 'report.html'))).toBe(true);
    expect(result.stdout).toContain(matrix.overall);
    // Every receiver's connections are in run.json, one baseline and one relay each.
    const feeds = (run.connections ?? []).map((c) => `${c.agent} ${c.feed}`);
    expect(feeds.filter((f) => f === 'receiver baseline')).toHaveLength(3);
    expect(feeds.filter((f) => f === 'forwarder relay')).toHaveLength(3);
    // The history has one record per receiver, read through its own schema.
    const records = (readdirSync(join(out, 'history'), { recursive: true }) as string[])
      .filter((file) => file.endsWith('.json'))
      .map((file) => parseHistoryRecord(readJson(join(out, 'history', file))));
    expect(records.map((r) => r.receiver).sort()).toEqual(NAMES);

    // `feedpath analyze` on the run folder analyses it again as a multi-receiver run.
    rmSync(join(dir, 'report.json'));
    const again = await feedpath(['analyze', dir], { timeoutMs: 60_000 });
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(matrix.overall);
    expect((readJson(join(dir, 'report.json')) as unknown as MatrixReport).matrix).toHaveLength(3);
  }, 150_000);

  it('refuses --receivers 0 and an unknown name before a run folder exists', async () => {
    const zero = await feedpath(['run', '--receivers', '0', '--out', out]);
    const unknown = await feedpath(['run', '--receivers', 'frankfurt,paris', '--out', out]);

    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--receivers must be 1 to 8 \(or receiver names\), not 0 \[FP_BAD_INPUT\]/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(
      /no receiver "paris" in the profile \(it has frankfurt, london, virginia\)/,
    );
    expect(readdirSync(out)).toEqual([]);
  });
});
