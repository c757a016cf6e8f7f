/**
 * The link process: `node dist/agents/link.js --config-json '{"target":{"port":9000},"forward":{"delayMs":100}}'`
 * (configuration: ./config.ts; what it reports: ./agent.ts; the process protocol: lib/agent.ts).
 */
import { linkAgent } from './agent';

linkAgent.main();
