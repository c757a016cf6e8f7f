/**
 * The forwarder process: `node dist/agents/forwarder.js --config-json '{"exchangeUrl":"ws://127.0.0.1:9100","receivers":[{"host":"10.1.0.5","port":9000}]}'`
 * (configuration: ./config.ts, the token from it or FEEDPATH_RELAY_TOKEN; what it reports:
 * ./agent.ts; the process protocol: lib/agent.ts).
 */
import { forwarderAgent } from './agent';

forwarderAgent.main();
