/**
 * The link emulator as an agent: starts a link (./proxy.ts) and reports it (see lib/agent.ts):
 * `ready` {name, host, port, target, forward, reverse}, then `progress` with the counters every
 * `progressIntervalMs`, and a `warning` (FP_TARGET_UNREACHABLE) in an interval in which connections
 * to the target failed; `stop` resolves with the totals for `done`.
 */
import type { AgentEvent, AgentHandle } from '../../lib/agent';
import { ErrorCode } from '../../lib/errors';
import { agentIo, type AgentIo } from '../common/agent-io';
import { defineAgent, every, reportProgress, stopOnce } from '../common/agent-kit';
import { linkConfigSchema, type LinkConfig } from './config';
import { openLink } from './proxy';

async function runLink(config: LinkConfig, io: AgentIo): Promise<AgentHandle> {
  const { report } = agentIo('link', io);
  const link = await openLink(config);
  const { name, target, forward, reverse } = config;
  report({ event: 'ready', agent: 'link', name, host: link.host, port: link.port, target, forward, reverse });
  let reportedUnreachable = 0;
  const stopProgress = every(
    config.progressIntervalMs,
    reportProgress(report, () => {
      const counters = link.counters;
      const events: AgentEvent[] = [{ event: 'progress', agent: 'link', name, ...counters }];
      const { unreachable } = counters.connections;
      if (unreachable > reportedUnreachable) {
        // The link's name labels its warnings too: a local run has three links.
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
    }),
  );
  const stop = stopOnce(async () => {
    stopProgress();
    const totals = await link.stop();
    return { name, port: link.port, ...totals };
  });
  return { stop };
}

/** The link agent (./main.ts runs it as a process). */
export const linkAgent = defineAgent('link', linkConfigSchema, runLink);
