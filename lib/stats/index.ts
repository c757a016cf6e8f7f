/** Exact statistics, the seeded generator and the bootstrap: see describe.ts for the definitions. */
export * from './describe';
export * from './random';
export * from './bootstrap';
