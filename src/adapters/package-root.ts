import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
