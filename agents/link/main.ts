/** `node dist/agents/link.js --config-json '{"target":{"port":9000},"forward":{"delayMs":100}}'` */
import { runAgent } from '../../lib/agent';
import { startLinkAgent } from './agent';
import { linkConfigSchema } from './config';

void runAgent('link', linkConfigSchema, (config) => startLinkAgent(config));
