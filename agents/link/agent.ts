/** The link emulator as an agent: starts a link and reports it on stdout (see lib/agent.ts). */
import { emit, type AgentEvent, type AgentHandle } from '../../lib/agent';
import { ErrorCode } from '../../lib/errors';
import type { LinkConfig } from './config';
import { startLink } from './proxy';

/** How often the agent reports its counters. */
export const PROGRESS_INTERVAL_MS = 1_000;

/**
 * Starts the link and reports `ready` {name, host, port, target, forward, reverse}, then `progress`
 * with the counters every `progressIntervalMs`, and a `warning` (FP_TARGET_UNREACHABLE) in an
 * interval in which connections to the target failed. `stop` resolves with the totals for `done`.
 */
export async function startLinkAgent(
  config: LinkConfig,
  report: (event: AgentEvent) => void = emit,
  progressIntervalMs = PROGRESS_INTERVAL_MS,
): Promise<AgentHandle> {
  const link = await startLink(config);
  const { name, target, forward, reverse } = config;
  report({ event: 'ready', agent: 'link', name, host: link.host, port: link.port, target, forward, reverse });
  let reportedUnreachable = 0;
  const timer = setInterval(() => {
    const counters = link.counters;
    report({ event: 'progress', agent: 'link', name, ...counters });
    const { unreachable } = counters.connections;
    if (unreachable > reportedUnreachable) {
      report({
        event: 'warning',
        agent: 'link',
        name,
        code: ErrorCode.targetUnreachable,
        message: `${unreachable - reportedUnreachable} connection(s) to ${target.host}:${target.port} failed: ${counters.lastError?.message ?? 'unknown error'}`,
      });
      reportedUnreachable = unreachable;
    }
  }, progressIntervalMs);
  return {
    async stop() {
      clearInterval(timer);
      const totals = await link.stop();
      return { name, port: link.port, ...totals };
    },
  };
}
