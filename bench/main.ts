/**
 * `npm run bench`: every benchmark, a table of figures on stdout, and bench/out/figures.json.
 * `npm run bench -- <section…>` runs only some sections (clock, ws, link, agents, analysis, truth,
 * statistics);
 * `--reference-seconds <s>` shortens the agents' reference-rate run (default 60 s, as the seed study).
 */
import '../lib/shims';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../lib/project-files';
import { benchAgents } from './agents';
import { benchAnalysis } from './analysis';
import { benchClock } from './clock';
import { benchLink } from './link';
import { benchStatistics } from './statistics';
import { benchTruth } from './truth';
import type { BenchFigure } from './figures';
import { workers } from './workers';
import { benchWsReference } from './ws-reference';

interface BenchOptions {
  referenceSeconds: number | undefined;
}

/** A section gets the figures measured before it in this invocation (the agents reuse the ws reference). */
const sections: Record<string, (previous: BenchFigure[], options: BenchOptions) => Promise<BenchFigure[]>> = {
  clock: () => benchClock(),
  ws: () => benchWsReference(),
  link: () => benchLink(),
  agents: (previous, options) => benchAgents({ previous, referenceSeconds: options.referenceSeconds }),
  analysis: () => benchAnalysis(),
  truth: () => benchTruth(),
  statistics: () => benchStatistics(),
};

function formatValue(figure: BenchFigure): string {
  const v = figure.value;
  const text = Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);
  return `${text} ${figure.unit}`;
}

function formatRatio(figure: BenchFigure): string {
  const ratio = figure.conditions.ratio_to_ws;
  return typeof ratio === 'number' ? `${ratio.toPrecision(3)}×ws` : '';
}

function parseArgs(argv: string[]): { names: string[]; options: BenchOptions } {
  const names: string[] = [];
  const options: BenchOptions = { referenceSeconds: undefined };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i] as string;
    if (arg === '--reference-seconds') {
      const seconds = Number(argv[(i += 1)]);
      if (!(seconds > 0)) throw new Error('--reference-seconds needs a number of seconds above 0');
      options.referenceSeconds = seconds;
    } else if (arg.startsWith('--')) {
      throw new Error(`unknown option ${arg}`);
    } else {
      names.push(arg);
    }
  }
  return { names: names.length > 0 ? names : Object.keys(sections), options };
}

async function runSections(names: string[], options: BenchOptions): Promise<void> {
  const figures: BenchFigure[] = [];
  for (const name of names) {
    const section = sections[name];
    if (section === undefined)
      throw new Error(`unknown section "${name}": one of ${Object.keys(sections).join(', ')}`);
    process.stderr.write(`• bench ${name}…\n`);
    const started = Date.now();
    const result = await section(figures, options);
    process.stderr.write(`  ${name}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    figures.push(...result);
    for (const f of result)
      process.stdout.write(
        `${f.name.padEnd(44)} ${formatValue(f).padStart(20)} ${formatRatio(f).padStart(10)}  ${f.target ? `${f.target.met ? 'met' : 'MISSED'}: ${f.target.text}` : ''}\n`,
      );
  }
  const outDir = join(projectRoot(), 'bench', 'out');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, 'figures.json');
  writeFileSync(
    file,
    `${JSON.stringify({ at: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, figures }, null, 2)}\n`,
  );
  process.stderr.write(`figures written to ${file}\n`);
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === '--worker') {
    const worker = workers[argv[1] ?? ''];
    if (worker === undefined) throw new Error(`unknown worker ${argv[1]}`);
    await worker(JSON.parse(argv[2] ?? '{}') as Record<string, unknown>);
    return;
  }
  // Leave through process.exit, so that the 'exit' handlers kill the processes a section started.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
  const { names, options } = parseArgs(argv);
  await runSections(names, options);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
