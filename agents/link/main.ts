/** `node dist/agents/link.js --config-json '{"target":{"port":9000},"forward":{"delayMs":100}}'` */
import { linkAgent } from './agent';

linkAgent.main();
