/**
 * The exchange process: `node dist/agents/exchange.js --config-json '{"source":{"kind":"synthetic"}}'`
 * (configuration: ./config.ts; what it reports: ./agent.ts; the process protocol: lib/agent.ts).
 */
import { exchangeAgent } from './agent';

exchangeAgent.main();
