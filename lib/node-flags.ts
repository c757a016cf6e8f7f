/**
 * Node flags for every agent process, wherever it runs: the local run (cli/local/agent-process.ts),
 * the cloud agents (the SSM script in lib/cloud/agents.ts) and the bench (bench/agents/), so that
 * what is measured is what ships.
 *
 * A larger young generation roughly halves the receiver's GC time at high rates (145k → 210k msg/s
 * on one core, measured); it has to be on the command line. Source maps only cost when an error's
 * stack is printed.
 */
export const AGENT_NODE_FLAGS: readonly string[] = ['--enable-source-maps', '--max-semi-space-size=32'];
