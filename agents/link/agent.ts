/** The link emulator as an agent: starts a link and reports it on stdout (see lib/agent.ts). */
import { emit, type AgentEvent, type AgentHandle } from '../../lib/agent';
import { ErrorCode } from '../../lib/errors';
import { defineAgent, DEFAULT_PROGRESS_INTERVAL_MS, reportProgress } from '../common/agent-kit';
import { linkConfigSchema, type LinkConfig } from './config';
import { openLink } from './proxy';

/**
 * Starts the link and reports `ready` {name, host, port, target, forward, reverse}, then `progress`
 * with the counters every `progressIntervalMs`, and a `warning` (FP_TARGET_UNREACHABLE) in an
 * interval in which connections to the target failed. `stop` resolves with the totals for `done`.
 */
export async function startLinkAgent(
  config: LinkConfig,
  report: (event: AgentEvent) => void = emit,
  progressIntervalMs = DEFAULT_PROGRESS_INTERVAL_MS,
): Promise<AgentHandle> {
  const link = await openLink(config);
  const { name, target, forward, reverse } = config;
  report({ event: 'ready', agent: 'link', name, host: link.host, port: link.port, target, forward, reverse });
  let reportedUnreachable = 0;
  const stopProgress = reportProgress(report, progressIntervalMs, () => {
    const counters = link.counters;
    const events: AgentEvent[] = [{ event: 'progress', agent: 'link', name, ...counters }];
    const { unreachable } = counters.connections;
    if (unreachable > reportedUnreachable) {
      events.push({
        event: 'warning',
        agent: 'link',
        name,
        code: ErrorCode.targetUnreachable,
        message: `${unreachable - reportedUnreachable} connection(s) to ${target.host}:${target.port} failed: ${counters.lastError?.message ?? 'unknown error'}`,
      });
      reportedUnreachable = unreachable;
    }
    return events;
  });
  return {
    async stop() {
      stopProgress();
      const totals = await link.stop();
      return { name, port: link.port, ...totals };
    },
  };
}

/** The link agent (./main.ts runs it as a process). */
export const linkAgent = defineAgent('link', linkConfigSchema, (config, io) =>
  startLinkAgent(config, io.report),
);
