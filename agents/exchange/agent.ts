/**
 * The exchange simulator as an agent: starts the exchange (./exchange.ts) and reports it (see
 * lib/agent.ts): `ready` {port, url}, `progress` about once a second, `finished` when a replay has
 * sent its whole capture (the server keeps serving until stopped: data may still be crossing the
 * link emulators), and the totals for `done`. It takes the `start` command.
 */
import { emit, type AgentHandle } from '../../lib/agent';
import type { AgentIo } from '../common/agent-io';
import { defineAgent, DEFAULT_PROGRESS_INTERVAL_MS, reportProgress } from '../common/agent-kit';
import { exchangeConfigSchema, type ExchangeConfig } from './config';
import { openExchange } from './exchange';

async function runExchangeAgent(config: ExchangeConfig, io: AgentIo): Promise<AgentHandle> {
  const report = io.report ?? emit;
  const exchange = await openExchange(config, io.clock === undefined ? {} : { clock: io.clock });
  report({
    event: 'ready',
    agent: 'exchange',
    port: exchange.port,
    url: exchange.url,
    source: config.source.kind,
  });
  const stopProgress = reportProgress(report, DEFAULT_PROGRESS_INTERVAL_MS, () => {
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
  });
  // A replay that cannot read its capture to the end is fatal; one that finishes keeps serving.
  const failed = exchange.replayDone?.then((summary) => {
    report({ event: 'finished', agent: 'exchange', source: 'replay', ...summary });
    return new Promise<never>(() => undefined);
  });
  return {
    command(name: string) {
      if (name === 'start') exchange.start();
      else
        report({
          event: 'warning',
          agent: 'exchange',
          code: 'FP_BAD_INPUT',
          message: `unknown command "${name}"`,
        });
    },
    async stop() {
      stopProgress();
      return { ...(await exchange.stop()) };
    },
    ...(failed === undefined ? {} : { finished: failed }),
  };
}

/** The exchange agent (./main.ts runs it as a process). */
export const exchangeAgent = defineAgent('exchange', exchangeConfigSchema, runExchangeAgent);
