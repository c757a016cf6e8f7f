/**
 * The benchmark workers by name, for `node dist/bench.js --worker <name> <json>` (bench/main.ts); one
 * file per worker, what they share in ./common.ts.
 */
import { blaster } from './blaster';
import type { WorkerArgs } from './common';
import { frames } from './frames';
import { relaySinks } from './relay-sinks';
import { sink } from './sink';
import { wsRelay } from './ws-relay';

export const workers: Record<string, (args: WorkerArgs) => Promise<void>> = {
  wsRelay,
  blaster,
  sink,
  frames,
  relaySinks,
};
