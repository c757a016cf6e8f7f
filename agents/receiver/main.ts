/**
 * The receiver process: `node dist/agents/receiver.js --config-json '{"mode":"paired","port":9000,"exchangeUrl":"ws://127.0.0.1:9100","outDir":"results/x"}'`
 * (configuration: ./config.ts, the token from it or FEEDPATH_RELAY_TOKEN; what it reports:
 * ./agent.ts; the process protocol: lib/agent.ts).
 */
import { receiverAgent } from './agent';

receiverAgent.main();
