/**
 * The run history: one record per run in the results store, the trend report over them, and what
 * a run calls after its analysis (recordRun) or its failure (recordFailedRun, recordExecutionEnd).
 */
export * from './record';
export * from './record-from-report';
export { runFacts, runIdOfPrefix, type RunFacts } from './run-facts';
export * from './store';
export * from './trend';
export * from './trend-charts';
export * from './trend-html';
export * from './merged';
export * from './record-run';
export * from './execution';
