import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';

// Export files on disk while a worker sends them: one directory per machine (mode 0700, files 0600),
// every file named `<pid>-<job id>-<part>.xlsx`. The job removes its files in `finally` (success and
// failure); a worker killed mid-export leaves its files behind, and the next worker start removes
// every file whose process is gone (`removeOrphanedExportFiles`).
//
// Telegram bots upload at most 50 MB per file: a workbook is closed when its output reaches
// `partBytes` (default 45 MB, room for the last rows and the zip directory) and the next rows go to a
// new part, each a complete workbook with the same header.

export const TELEGRAM_UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024;

export function exportDir(base = tmpdir()): string {
  return join(base, 'warmth-exports');
}

/** `<pid>-<job id>-`: how the files of one job of one process begin (`pid`: the process that owns them). */
const stemOf = (jobId: string, pid: number) => `${pid}-${jobId.replace(/[^A-Za-z0-9_-]/g, '')}-`;

/**
 * The path of part `part` of a job's export. `pid` is the process that owns and removes the files (the
 * staff job's worker; the export's child process writes them under its parent's pid).
 */
export async function exportPath(
  jobId: string,
  part: number,
  dir = exportDir(),
  pid = process.pid,
): Promise<string> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  return join(dir, `${stemOf(jobId, pid)}${part}.xlsx`);
}

/** Removes every file of a job of this process (whatever the parts written: a child may have died). */
export async function removeJobExportFiles(jobId: string, dir = exportDir()): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  const stem = stemOf(jobId, process.pid);
  await removeExportFiles(names.filter((n) => n.startsWith(stem)).map((n) => join(dir, n)));
}

export async function removeExportFiles(paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true })));
}

function alive(pid: number): boolean {
  if (pid === process.pid) return false; // at start-up this process has written nothing yet
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** At worker start: removes export files left by processes that no longer run. Returns how many. */
export async function removeOrphanedExportFiles(dir = exportDir()): Promise<number> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(/^(\d+)-/.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid > 0 && alive(pid)) continue;
    await rm(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

/**
 * Writes `pages` into one or more files: `write(out, pages, part)` writes one complete file from the
 * pages it is given; it is handed rows until its output reaches `partBytes`, then the rest goes to the
 * next part. Back-pressure: the next page is pulled only when the file stream has drained. On any
 * failure the files written so far are removed and the source iterator is closed.
 */
export async function writeInParts<T>(opts: {
  pages: AsyncIterable<T>;
  partBytes: number;
  path: (part: number) => Promise<string>;
  write: (out: Writable, pages: AsyncIterable<T>, part: number) => Promise<unknown>;
}): Promise<string[]> {
  const source = opts.pages[Symbol.asyncIterator]();
  const paths: string[] = [];
  let exhausted = false;
  try {
    for (let part = 1; !exhausted; part++) {
      const path = await opts.path(part);
      paths.push(path);
      const out = createWriteStream(path, { mode: 0o600 });
      const size = () => out.bytesWritten + out.writableLength;
      const limited = async function* () {
        let given = false;
        for (;;) {
          if (given && size() >= opts.partBytes) return;
          const r = await source.next();
          if (r.done) {
            exhausted = true;
            return;
          }
          given = true;
          yield r.value;
          if (out.writableNeedDrain) await once(out, 'drain');
        }
      };
      try {
        await opts.write(out, limited(), part);
        if (!out.writableEnded) out.end();
        await finished(out);
      } catch (err) {
        out.destroy();
        throw err;
      }
    }
    return paths;
  } catch (err) {
    await source.return?.();
    await removeExportFiles(paths);
    throw err;
  }
}
