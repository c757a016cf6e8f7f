/**
 * The run history: one record per run in the results store, the trend report over them, and what
 * a run calls after its analysis (recordRun) or its failure (recordFailedRun, recordExecutionEnd).
 */
export * from './record';
export * from './store';
export * from './trend';
export * from './merged';
export * from './record-run';
export * from './execution';
