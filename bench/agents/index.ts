/**
 * The agents measured like the seed's WebSocket library study: the real bundles
 * (dist/agents/*.js) as separate processes with the agents' Node flags, each pinned to one core —
 * core 0 for the load generator (and the counting sinks or the receiver when the forwarder is under
 * test), core 1 for the agent under test — and every figure set beside the plain `ws` reference
 * measured in the same invocation.
 *
 * Load generators are chosen so that they are not the bottleneck: maximum rates and bursts come
 * from a generator that writes ready-made frames in bulk (bench/raw-ws.ts), the 1,000 msg/s
 * latencies from the same plain `ws` server the reference uses, so that a ratio compares the agent
 * with a plain `ws` client and nothing else.
 */
import type { BenchFigure } from '../figures';
import { benchWsReference } from '../ws-reference';
import { benchBursts } from './burst';
import { benchForwarderMax, benchForwarderStalled } from './forwarder';
import { benchLatency } from './latency';
import { benchReceiverMax } from './receiver';
import { benchReferenceRate } from './reference-rate';
import type { AgentBench } from './setup';

export interface BenchAgentsOptions {
  /** How long the reference-rate run lasts, s (the seed study's table: 60). */
  referenceSeconds?: number;
  /** Figures already measured in this invocation: the `ws_reference.*` ones are reused. */
  previous?: readonly BenchFigure[];
  log?: (line: string) => void;
}

/** Every agent figure (see the file comment), with the `ws` reference's ratios, in this order. */
export async function benchAgents(options: BenchAgentsOptions = {}): Promise<BenchFigure[]> {
  const log = options.log ?? ((line: string) => process.stderr.write(`  ${line}\n`));
  const figures: BenchFigure[] = [];
  let reference = (options.previous ?? []).filter((f) => f.name.startsWith('ws_reference.'));
  if (reference.length === 0) {
    log('ws reference (not measured yet in this invocation)…');
    reference = await benchWsReference();
    figures.push(...reference);
  }
  const bench: AgentBench = {
    log,
    ws: (name) => reference.find((f) => f.name === `ws_reference.${name}`),
  };
  figures.push(...(await benchReceiverMax(bench)));
  figures.push(...(await benchBursts(bench)));
  figures.push(...(await benchForwarderMax(bench)));
  figures.push(...(await benchLatency(bench)));
  figures.push(...(await benchForwarderStalled(bench)));
  figures.push(...(await benchReferenceRate(bench, options.referenceSeconds ?? 60)));
  return figures;
}
