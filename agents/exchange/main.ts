/**
 * `node dist/agents/exchange.js --config-json '{"source":{"kind":"synthetic"}}'` (see ./config.ts,
 * ./agent.ts for what it reports). See lib/agent.ts for the process protocol.
 */
import { exchangeAgent } from './agent';

exchangeAgent.main();
