/** The analysis of a run's results: per-path summaries, the paired comparison, the report. */
export * from './csv';
export * from './path';
export * from './order';
export * from './data-errors';
export * from './window';
export * from './summaries';
export * from './paired';
export * from './connections';
export * from './first-copy';
export * from './run';
export * from './receivers';
