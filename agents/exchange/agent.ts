/**
 * The exchange simulator as an agent: starts the exchange (./exchange.ts) and reports it (see
 * lib/agent.ts): `ready` {port, url}, `progress` every `progressIntervalMs`, `finished` when a
 * replay has sent its whole capture (the server keeps serving until stopped: data may still be
 * crossing the link emulators), and the totals for `done`. It takes the `start` command.
 */
import type { AgentHandle } from '../../lib/agent';
import { ErrorCode, FeedpathError } from '../../lib/errors';
import { agentIo, type AgentIo } from '../common/agent-io';
import { defineAgent, every, reportProgress, stopOnce } from '../common/agent-kit';
import { exchangeConfigSchema, type ExchangeConfig } from './config';
import { openExchange } from './exchange';

async function runExchange(config: ExchangeConfig, io: AgentIo): Promise<AgentHandle> {
  const { report, warn } = agentIo('exchange', io);
  const exchange = await openExchange(config, io.clock === undefined ? {} : { clock: io.clock });
  report({
    event: 'ready',
    agent: 'exchange',
    port: exchange.port,
    url: exchange.url,
    source: config.source.kind,
  });
  const stopProgress = every(
    config.progressIntervalMs,
    reportProgress(report, () => {
      const { counters } = exchange;
      return {
        event: 'progress',
        agent: 'exchange',
        clients: counters.clients,
        connections: counters.connections,
        events: counters.events,
        messages: counters.messages,
        bytes: counters.bytes,
        ...(exchange.replay === undefined ? {} : { replay: exchange.replay }),
      };
    }),
  );
  // A replay that cannot read its capture to the end is fatal; one that finishes keeps serving.
  const failed = exchange.replayDone?.then((summary) => {
    report({ event: 'finished', agent: 'exchange', source: 'replay', ...summary });
    return new Promise<never>(() => undefined);
  });
  const stop = stopOnce(async () => {
    stopProgress();
    return { ...(await exchange.stop()) };
  });
  return {
    command(name: string) {
      if (name === 'start') exchange.start();
      else warn(new FeedpathError(ErrorCode.badInput, `unknown command "${name}"`));
    },
    stop,
    ...(failed === undefined ? {} : { finished: failed }),
  };
}

/** The exchange agent (./main.ts runs it as a process). */
export const exchangeAgent = defineAgent('exchange', exchangeConfigSchema, runExchange);
