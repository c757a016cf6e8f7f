/**
 * Exact statistics, the i.i.d. bootstrap (seeded from lib/random.ts), the time-block interval of the
 * median (interval.ts, the one the reports use; sorted-runs.ts takes it over sorted blocks) and the
 * mergeable histogram (histogram.ts): see describe.ts for the definitions.
 */
export * from './describe';
export * from './bootstrap';
export * from './interval';
export * from './sorted-runs';
export * from './histogram';
