export * from './settings.ts';
export * from './quiet.ts';
export * from './derive.ts';
