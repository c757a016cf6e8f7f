/**
 * `npm run bench`: every benchmark, a table of figures on stdout, and bench/out/figures.json.
 * `npm run bench -- <section…>` runs only some sections (clock, ws, link, agents, analysis).
 */
import '../lib/shims';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../lib/paths';
import { benchAnalysis } from './analysis';
import { benchClock } from './clock';
import { benchLink } from './link';
import type { BenchFigure } from './figures';
import { workers } from './workers';
import { benchWsReference } from './ws-reference';

const sections: Record<string, () => Promise<BenchFigure[]>> = {
  clock: () => benchClock(),
  ws: benchWsReference,
  link: () => benchLink(),
  analysis: () => benchAnalysis(),
};

function formatValue(figure: BenchFigure): string {
  const v = figure.value;
  const text = Math.abs(v) >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);
  return `${text} ${figure.unit}`;
}

async function runSections(names: string[]): Promise<void> {
  const figures: BenchFigure[] = [];
  for (const name of names) {
    const section = sections[name];
    if (section === undefined)
      throw new Error(`unknown section "${name}": one of ${Object.keys(sections).join(', ')}`);
    process.stderr.write(`• bench ${name}…\n`);
    const started = Date.now();
    const result = await section();
    process.stderr.write(`  ${name}: ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    figures.push(...result);
    for (const f of result)
      process.stdout.write(
        `${f.name.padEnd(48)} ${formatValue(f).padStart(16)}  ${f.target ? `${f.target.met ? 'met' : 'MISSED'}: ${f.target.text}` : ''}\n`,
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
  await runSections(argv.length > 0 ? argv : Object.keys(sections));
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
