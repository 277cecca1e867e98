// npm run build: the production build in dist/. esbuild bundles each entry point (the processes, the CLIs
// production needs, the upload parser's child process, the decryption worker thread, the emulator) with
// the project's own code and the generated Prisma client inside, npm packages left as imports (installed with `npm ci --omit=dev`), shared
// code split into dist/chunks/, source maps beside each file (run with `node --enable-source-maps`).
// Runtime files (locales/, prisma/migrations/, campaigns/, config/) are read from the package root
// (src/adapters/package-root.ts), so dist/ holds code only.
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type BuildOptions, build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export const ENTRY_POINTS = [
  'src/main.ts',
  'src/adapters/files/parse-worker.ts',
  'src/adapters/files/export-child.ts',
  'src/adapters/crypto/decrypt-worker.ts',
  'src/adapters/crypto/cipher-worker.ts',
  'src/adapters/db/tooling/cli.ts',
  'src/emulator/cli.ts',
  'src/cli/admin.ts',
  'src/cli/backup.ts',
  'src/cli/campaign.ts',
  'src/cli/chat.ts',
  'src/cli/keys.ts',
  'src/cli/nominations-check.ts',
  'src/cli/reminders-sync.ts',
  'src/cli/seed-demo.ts',
];

/** How every production bundle is built (also used by bench/ledger.bench.ts to measure as deployed). */
export const BUNDLE_OPTIONS = {
  bundle: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  packages: 'external',
  sourcemap: true,
  // The sources import with .ts extensions (run by tsx); esbuild resolves them.
  resolveExtensions: ['.ts', '.js', '.mjs', '.json'],
} as const satisfies BuildOptions;

/** Builds into `outdir` (default dist/); returns esbuild's result. */
export async function buildDist({
  outdir = join(root, 'dist'),
  logLevel = 'info' as 'info' | 'warning' | 'error' | 'silent',
} = {}) {
  rmSync(outdir, { recursive: true, force: true });
  return build({
    ...BUNDLE_OPTIONS,
    absWorkingDir: root,
    entryPoints: ENTRY_POINTS,
    outdir,
    outbase: 'src',
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    logLevel,
    metafile: false,
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const started = Date.now();
  await buildDist();
  console.log(`dist/ built in ${Date.now() - started} ms`);
}
