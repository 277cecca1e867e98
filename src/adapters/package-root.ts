import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// Runtime files (locales/, prisma/migrations/, campaigns/, config/) live at the package root. Found by
// walking up to package.json from wherever this code runs: src/ under tsx, or a bundled chunk in dist/
// (npm run build), whose depth differs from the source file's.

function findPackageRoot(from: string): string {
  for (let dir = from; ; ) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no package.json above ${from}`);
    dir = parent;
  }
}

export const packageRoot = findPackageRoot(dirname(fileURLToPath(import.meta.url)));

/**
 * True when running the production build (dist/), false under tsx or vitest (src/). The path, not the
 * URL: a module loaded through tsx's `tsImport` (a child's bootstrap) has a query after its `.ts`.
 */
export const compiled = !new URL(import.meta.url).pathname.endsWith('.ts');

/**
 * How to start `src/<path>.ts` as a process or thread of its own (the upload parser, the export child,
 * the decryption and cipher workers): in the build its own bundle, `dist/<path>.js`; under tsx its
 * bootstrap `<path>-boot.mjs`, which registers tsx first, with the module's URL as its first argument
 * (a process's bootstrap imports that; a thread's imports its module by name).
 */
export function ownEntry(path: string): { file: string; args: string[] } {
  if (compiled) return { file: join(packageRoot, 'dist', `${path}.js`), args: [] };
  return {
    file: join(packageRoot, 'src', `${path}-boot.mjs`),
    args: [pathToFileURL(join(packageRoot, 'src', `${path}.ts`)).href],
  };
}
