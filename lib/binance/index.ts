export * from './streams';
export * from './parse';
export * from './loss';
