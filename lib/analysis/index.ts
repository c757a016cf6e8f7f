/** The analysis of a run's results: per-path summaries, the paired comparison, the report. */
export * from './read';
export * from './csv';
export * from './path-columns';
export * from './validate';
export * from './path';
export * from './order';
export * from './loss';
export * from './data-errors';
export * from './window';
export * from './summaries';
export * from './paired';
export * from './connections';
export * from './first-copy';
export * from './run';
export * from './receivers';
