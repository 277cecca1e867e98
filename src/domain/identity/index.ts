export * from './result.ts';
export * from './id-number.ts';
export * from './phone.ts';
export * from './bank-card.ts';
export * from './name.ts';
export * from './free-text.ts';
export * from './hardship.ts';
