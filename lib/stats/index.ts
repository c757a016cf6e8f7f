/**
 * Exact statistics, the i.i.d. bootstrap (seeded from lib/random.ts), the time-block interval of the
 * median (interval.ts, the one the reports use) and the mergeable histogram (histogram.ts): see
 * describe.ts for the definitions.
 */
export * from './describe';
export * from './bootstrap';
export * from './interval';
export * from './histogram';
