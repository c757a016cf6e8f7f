/**
 * The exchange agent: `node dist/agents/exchange.js --config-json '{…}'` (see ./config.ts).
 * stdout, one JSON object per line: `ready` {port, url}, `progress` about once a second, `finished`
 * when a replay has sent its whole capture (the server keeps serving until stopped: data may still
 * be crossing the link emulators), `done` on SIGTERM/SIGINT with the totals.
 */
import { emit, runAgent } from '../../lib/agent';
import { exchangeConfigSchema } from './config';
import { startExchange } from './exchange';

/** How often `progress` is reported. */
const PROGRESS_INTERVAL_MS = 1_000;

void runAgent('exchange', exchangeConfigSchema, async (config) => {
  const exchange = await startExchange(config);
  emit({
    event: 'ready',
    agent: 'exchange',
    port: exchange.port,
    url: exchange.url,
    source: config.source.kind,
  });
  const progress = setInterval(() => {
    const { counters } = exchange;
    emit({
      event: 'progress',
      agent: 'exchange',
      clients: counters.clients,
      connections: counters.connections,
      events: counters.events,
      messages: counters.messages,
      bytes: counters.bytes,
      ...(exchange.replay === undefined ? {} : { replay: exchange.replay }),
    });
  }, PROGRESS_INTERVAL_MS);
  // A replay that cannot read its capture to the end is fatal; one that finishes keeps serving.
  const failed = exchange.replayDone?.then((summary) => {
    emit({ event: 'finished', agent: 'exchange', source: 'replay', ...summary });
    return new Promise<never>(() => undefined);
  });
  return {
    command(name: string) {
      if (name === 'start') exchange.start();
      else
        emit({
          event: 'warning',
          agent: 'exchange',
          code: 'FP_BAD_INPUT',
          message: `unknown command "${name}"`,
        });
    },
    async stop() {
      clearInterval(progress);
      return { ...(await exchange.stop()) };
    },
    ...(failed === undefined ? {} : { finished: failed }),
  };
});
