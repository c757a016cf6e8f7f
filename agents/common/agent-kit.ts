/**
 * One way to build an agent. An agent is a name, a configuration schema and a `run` that takes the
 * validated configuration and returns a running agent (lib/agent.ts's AgentHandle): it listens
 * (./listen.ts), connects, reports `ready`, then `progress` ({@link reportProgress}), and stops in
 * order ({@link stopOnce}). {@link defineAgent} gives every
 * agent the same two ways in, and the configuration is validated once on either:
 *
 * - `main()`, the process (`agents/<name>/main.ts`): runAgent reads and validates the configuration
 *   from argv, then `run` takes it as is;
 * - `start(input, io)`, in process (tests, the bench): validates `input`, then `run`.
 */
import { z } from 'zod';
import { parseAgentConfig, runAgent, type AgentEvent, type AgentHandle } from '../../lib/agent';
import type { AgentIo } from './agent-io';

export interface Agent<S extends z.ZodType, H extends AgentHandle> {
  readonly name: string;
  readonly schema: S;
  /** Validates the configuration (FP_BAD_CONFIG naming the field), then starts the agent. */
  start(input: z.input<S>, io?: AgentIo): Promise<H>;
  /** The agent process: configuration from argv, reports on stdout, stops on SIGTERM/SIGINT. */
  main(): void;
}

export function defineAgent<S extends z.ZodType, H extends AgentHandle>(
  name: string,
  schema: S,
  run: (config: z.output<S>, io: AgentIo) => Promise<H>,
): Agent<S, H> {
  return {
    name,
    schema,
    // async: a bad configuration rejects the returned promise, as a failed start does.
    start: async (input, io = {}) => run(parseAgentConfig(name, schema, input), io),
    main: () => void runAgent(name, schema, (config) => run(config, {})),
  };
}

/** How often an agent reports `progress` unless configured otherwise. */
const DEFAULT_PROGRESS_INTERVAL_MS = 1_000;

/** Every agent's `progressIntervalMs`: how often `progress` is reported (and resources sampled), ms. */
export const progressIntervalSchema = z
  .number()
  .int()
  .min(10)
  .max(60_000)
  .default(DEFAULT_PROGRESS_INTERVAL_MS);

/**
 * Progress, one way for every agent: `progress` turns one tick into the `progress` event and any
 * warnings the tick found after it, reported in order; the returned function is the tick. An agent
 * that samples its resources (receiver, forwarder) ticks from the sampler's `onSample`, so one timer
 * samples and reports; one that does not (exchange, link) ticks {@link every} interval.
 */
export function reportProgress<T = void>(
  report: (event: AgentEvent) => void,
  progress: (tick: T) => AgentEvent | AgentEvent[],
): (tick: T) => void {
  return (tick) => {
    const events = progress(tick);
    for (const event of Array.isArray(events) ? events : [events]) report(event);
  };
}

/** Calls `tick` every `intervalMs` (an agent's progress clock when it has no sampler); returns what stops it. */
export function every(intervalMs: number, tick: () => void): () => void {
  const timer = setInterval(tick, intervalMs);
  return () => clearInterval(timer);
}

/** An agent's `stop`: runs the shutdown once; a second call gets the first call's result. */
export function stopOnce(
  shutdown: (reason: string) => Promise<Record<string, unknown>>,
): (reason: string) => Promise<Record<string, unknown>> {
  let stopped: Promise<Record<string, unknown>> | undefined;
  return (reason) => (stopped ??= shutdown(reason));
}
