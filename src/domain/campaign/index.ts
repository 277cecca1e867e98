export * from './money.ts';
export * from './vocab.ts';
export * from './schema.ts';
export * from './file.ts';
