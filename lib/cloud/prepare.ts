/**
 * Prepare: validate the execution input (nothing exists yet, so a bad input fails here and costs
 * nothing), plan the run, and stage what the instances will fetch: the input as validated and the
 * agent bundles, under the run's own prefix (so a report can always say exactly what code ran).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { formatRunFile, RUN_FILE } from '../run-file';
import type { ResultsStore } from '../store';
import { agentBundleKey, newRelayToken, relayTokenKey } from './agents';
import type { PrepareEvent } from './contract';
import { parseExperimentInput } from './input';
import { planRun, type Deployment, type RunPlan, type SiteRole } from './run';

export interface PrepareDeps {
  deployment: Deployment;
  /** Regions runs may use (the sweeper's regions). */
  regions: readonly string[];
  /** The results bucket (or, locally, the results folder). */
  store: ResultsStore;
  /** The bundled agent for a role; absent when the agents run from this machine's dist/ (local runs). */
  agentBundle?: (role: SiteRole) => Promise<Uint8Array>;
}

/** Reads `<dir>/<role>.js`, the bundles scripts/build.mjs writes (packaged with the prepare Lambda). */
export function agentBundleReader(dir: string): (role: SiteRole) => Promise<Uint8Array> {
  return async (role) => {
    const path = join(dir, `${role}.js`);
    try {
      return await readFile(path);
    } catch (error) {
      throw new Error(`the ${role} agent bundle ${path} is missing: run \`npm run build\` before deploying`, {
        cause: error,
      });
    }
  };
}

/** PrepareRun: validates, plans, and stages the run's files. */
export async function prepareRun(event: PrepareEvent, deps: PrepareDeps): Promise<RunPlan> {
  const input = parseExperimentInput(event.input, deps.regions);
  const run = planRun(input, deps.deployment, event.execution);
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  await deps.store.write(`${run.prefix}input.json`, json(input), 'application/json');
  // run.json through its one schema (lib/run-file.ts): the analysis and the history read it back.
  await deps.store.write(`${run.prefix}${RUN_FILE}`, formatRunFile(run), 'application/json');
  // A new secret per run, kept out of the plan (and so out of the execution's history).
  await deps.store.write(relayTokenKey(run), newRelayToken(), 'text/plain');
  if (deps.agentBundle !== undefined) {
    for (const site of run.sites) {
      await deps.store.write(
        agentBundleKey(run, site.role),
        await deps.agentBundle(site.role),
        'text/javascript',
      );
    }
  }
  return run;
}
