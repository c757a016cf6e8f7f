// Bundles the command, the agents and the benchmarks with esbuild into dist/.
// The agents are bundled whole (no node_modules needed) because the same files are what the
// workflow ships to the instances; the command keeps its packages external.
import { build } from 'esbuild';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

process.chdir(fileURLToPath(new URL('..', import.meta.url)));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  // ws' optional native accelerators
  external: ['bufferutil', 'utf-8-validate'],
};

const agents = ['exchange', 'link', 'forwarder', 'receiver'].filter((name) =>
  existsSync(`agents/${name}/main.ts`),
);

await Promise.all([
  existsSync('cli/main.ts') &&
    build({ ...common, entryPoints: ['cli/main.ts'], outfile: 'dist/cli.js', packages: 'external' }),
  agents.length > 0 &&
    build({
      ...common,
      entryPoints: Object.fromEntries(agents.map((name) => [name, `agents/${name}/main.ts`])),
      outdir: 'dist/agents',
    }),
  existsSync('bench/main.ts') &&
    build({ ...common, entryPoints: ['bench/main.ts'], outfile: 'dist/bench.js', packages: 'external' }),
  // The analysis benchmark's child process: its peak RSS must be the analysis' alone.
  existsSync('bench/analysis-worker.ts') &&
    build({
      ...common,
      entryPoints: ['bench/analysis-worker.ts'],
      outfile: 'dist/bench-analysis-worker.js',
      packages: 'external',
    }),
]);
