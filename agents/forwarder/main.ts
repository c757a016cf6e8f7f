/**
 * `node dist/agents/forwarder.js --config-json '{"exchangeUrl":"ws://127.0.0.1:9100","receivers":[{"host":"10.1.0.5","port":9000}]}'`
 * (token from the config or FEEDPATH_RELAY_TOKEN). See lib/agent.ts for the process protocol.
 */
import { forwarderAgent } from './forwarder';

forwarderAgent.main();
