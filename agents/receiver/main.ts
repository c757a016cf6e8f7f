/**
 * `node dist/agents/receiver.js --config-json '{"mode":"paired","port":9000,"exchangeUrl":"ws://127.0.0.1:9100","outDir":"results/x"}'`
 * (token from the config or FEEDPATH_RELAY_TOKEN). See lib/agent.ts for the process protocol.
 */
import { receiverAgent } from './receiver';

receiverAgent.main();
