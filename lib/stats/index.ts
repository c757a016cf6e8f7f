/**
 * Exact statistics, the seeded generator, the i.i.d. bootstrap, the time-block interval of the
 * median (interval.ts, the one the reports use) and the mergeable histogram (histogram.ts): see
 * describe.ts for the definitions.
 */
export * from './describe';
export * from './random';
export * from './bootstrap';
export * from './interval';
export * from './histogram';
