// npm run db:generate: the same offline `prisma generate` as after npm install (scripts/postinstall.mjs
// points PRISMA_SCHEMA_ENGINE_BINARY at a stub so the CLI never downloads the native engine).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const script = resolve(import.meta.dirname, '../../../../scripts/postinstall.mjs');
const result = spawnSync(process.execPath, [script], { stdio: 'inherit' });
process.exitCode = result.status ?? 1;
