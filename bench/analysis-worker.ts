/**
 * The analysis benchmark's child process (`dist/bench-analysis-worker.js <dir>`): analyses one
 * results folder and prints one JSON line with its time and peak RSS, so that the RSS measured is
 * the analysis' alone. With `--bench [rows…]` it runs the whole benchmark instead (standalone use).
 */
import { analyzeRun } from '../lib/analysis';
import { LocalFolderStore } from '../lib/store';
import { benchAnalysis, type AnalysisWorkerResult } from './analysis';

function cpuSeconds(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1e6;
}

async function analyzeFolder(dir: string): Promise<void> {
  process.stderr.write(`    ${(performance.now() / 1000).toFixed(2)} s  modules loaded\n`);
  const started = process.hrtime.bigint();
  const { report } = await analyzeRun(new LocalFolderStore(dir), '', {
    // Seconds since the process started (module loading included), for a breakdown by phase.
    // CPU seconds too: on a shared machine they say what a step costs better than the wall clock.
    log: (line) =>
      process.stderr.write(
        `    ${(performance.now() / 1000).toFixed(2)} s  cpu ${cpuSeconds().toFixed(1)} s  rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MB (peak ${(process.resourceUsage().maxRSS / 1024).toFixed(0)})  ${line}\n`,
      ),
  });
  const result: AnalysisWorkerResult = {
    seconds: Number(process.hrtime.bigint() - started) / 1e9,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    matched: report.paired?.matched ?? 0,
    medianDeltaMs: report.paired?.delta_ms?.median ?? null,
    baselineMedianMs: report.summaries.baseline?.median_latency_ms ?? null,
    backboneMedianMs: report.summaries.backbone?.median_latency_ms ?? null,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--bench') {
    const sizes = argv
      .slice(1)
      .map(Number)
      .filter((n) => n > 0);
    const figures = await benchAnalysis(sizes.length > 0 ? { sizes } : {});
    for (const f of figures) {
      process.stdout.write(
        `${f.name.padEnd(40)} ${f.value.toFixed(2).padStart(10)} ${f.unit.padEnd(3)} ${f.target ? `${f.target.met ? 'met' : 'MISSED'}: ${f.target.text}` : ''}\n`,
      );
    }
    return;
  }
  const dir = argv[0];
  if (dir === undefined) throw new Error('usage: bench-analysis-worker <results folder> | --bench [rows…]');
  await analyzeFolder(dir);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(
    `bench-analysis-worker: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exit(1);
});
