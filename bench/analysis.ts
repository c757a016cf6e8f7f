/**
 * The analysis at scale: two synthetic CSVs (10 million and 100,000 rows per path, known
 * distribution) analysed end to end — summaries, paired matching, bootstrap, report with charts —
 * in a child process, so its peak RSS is the analysis' own. Targets (issue 3): 10M rows per path
 * in < 20 s with peak RSS < 1 GB (the analysis Lambda has 1 GB); 100k rows per path in < 2 s.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../lib/project-files';
import { resultsCsvName } from '../lib/samples';
import { writeSyntheticRun } from './analysis-data';
import type { BenchFigure } from './figures';

export interface BenchAnalysisOptions {
  /** Rows per path for each case; default 100,000 and 10,000,000. */
  sizes?: number[];
  /** Where the temporary CSVs go (removed afterwards); default the OS temp folder. */
  tmp?: string;
  log?: (line: string) => void;
}

/** What the worker prints as its last line. */
export interface AnalysisWorkerResult {
  seconds: number;
  maxRssMb: number;
  matched: number;
  medianDeltaMs: number | null;
  baselineMedianMs: number | null;
  backboneMedianMs: number | null;
}

const TARGETS: Record<number, { seconds: number; rssMb?: number }> = {
  100_000: { seconds: 2 },
  10_000_000: { seconds: 20, rssMb: 1024 },
};

export function workerPath(): string {
  return join(projectRoot(), 'dist', 'bench-analysis-worker.js');
}

function runWorker(dir: string): Promise<{ wallSeconds: number; result: AnalysisWorkerResult }> {
  const script = workerPath();
  if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build first`);
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, [script, dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`analysis worker exited with ${code}: ${last}`));
      resolve({ wallSeconds, result: JSON.parse(last) as AnalysisWorkerResult });
    });
  });
}

function label(rows: number): string {
  return rows >= 1e6 ? `${rows / 1e6}m` : `${rows / 1e3}k`;
}

/** Generates each case's CSVs, analyses them in a child process and returns the figures. */
export async function benchAnalysis(options: BenchAnalysisOptions = {}): Promise<BenchFigure[]> {
  const sizes = options.sizes ?? [100_000, 10_000_000];
  const log = options.log ?? ((line: string) => process.stderr.write(`  ${line}\n`));
  const figures: BenchFigure[] = [];
  for (const rows of sizes) {
    const dir = await mkdtemp(join(options.tmp ?? tmpdir(), 'feedpath-bench-analysis-'));
    try {
      const generated = Date.now();
      await writeSyntheticRun(dir, { rows, seed: 1, baselineLossEvery: 100_000 });
      let bytes = 0;
      for (const path of ['baseline', 'backbone'] as const)
        bytes += (await stat(join(dir, resultsCsvName(path)))).size;
      log(
        `${label(rows)} rows per path: ${(bytes / 1e6).toFixed(0)} MB of CSV written in ${((Date.now() - generated) / 1000).toFixed(1)} s`,
      );
      const { wallSeconds, result } = await runWorker(dir);
      log(
        `${label(rows)} rows per path: analysed in ${wallSeconds.toFixed(2)} s, peak RSS ${result.maxRssMb.toFixed(0)} MB`,
      );
      const target = TARGETS[rows];
      const conditions = {
        rows_per_path: rows,
        paths: 2,
        csv_mb: Math.round(bytes / 1e6),
        includes:
          'node start, both CSVs streamed, summaries, paired matching, bootstrap CI, report.json/md/html with charts',
        matched_events: result.matched,
        median_delta_ms: result.medianDeltaMs ?? 'n/a',
        // The synthetic model's baseline median is 114 + 4·ln 2 ms: the analysis must recover it.
        baseline_median_ms: result.baselineMedianMs ?? 'n/a',
        model_baseline_median_ms: Number((114 + 4 * Math.LN2).toFixed(3)),
        store: 'local folder',
      };
      figures.push({
        name: `analysis.${label(rows)}_per_path.seconds`,
        value: wallSeconds,
        unit: 's',
        conditions,
        ...(target ? { target: { text: `< ${target.seconds} s`, met: wallSeconds < target.seconds } } : {}),
      });
      figures.push({
        name: `analysis.${label(rows)}_per_path.peak_rss_mb`,
        value: result.maxRssMb,
        unit: 'MB',
        conditions: { rows_per_path: rows, measured: 'maxRSS of the analysis process (getrusage)' },
        ...(target?.rssMb !== undefined
          ? { target: { text: `< ${target.rssMb} MB`, met: result.maxRssMb < target.rssMb } }
          : {}),
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  return figures;
}
