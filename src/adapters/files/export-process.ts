import type { ChildProcess } from 'node:child_process';
import type { ExportChildJob, ExportChildMessage } from './export-child.ts';
import { diedOfMemory, forkLean } from './lean-child.ts';

// Runs one export in a child process of its own (export-child.ts): the staff job's process keeps the
// look-ups, the access decision, progress, sending and the audit row; the child reads, decrypts and
// writes the .xlsx parts with a heap cap, and nothing of the bot (Prisma's query compiler, telegraf,
// BullMQ) in its memory. Its environment holds no secrets: the connection string and the derived field
// keys arrive over IPC. A child that dies or is killed fails the export with an ExportChildFailed; its
// files are the caller's to remove (removeJobExportFiles), as on every path.

const CHILD = 'adapters/files/export-child';
/**
 * The child's old-space cap. Its live data is two cursor batches and the writer's buffers (tens of MB,
 * flat in the row count); below 256 MB V8 collects the old space early (1.3× its live size).
 */
const HEAP_MB = 128;

export class ExportChildFailed extends Error {}

/** The running export children (the tests look at them; a child exits by itself when its parent goes). */
export const exportChildren = new Set<ChildProcess>();

/** Runs `job` in a child; `onProgress(rows written)` as the rows are written. Resolves with the parts. */
export async function runExportChild(
  job: ExportChildJob,
  onProgress: (written: number) => void,
): Promise<{ rows: number; paths: string[]; peakRssMb: number }> {
  const { child, stderr } = forkLean(CHILD, [
    `--max-old-space-size=${HEAP_MB}`,
    ...(process.execArgv.includes('--enable-source-maps') ? ['--enable-source-maps'] : []),
  ]);
  exportChildren.add(child);
  try {
    return await new Promise((resolve, reject) => {
      let settled = false;
      const fail = (why: string) => {
        if (settled) return;
        settled = true;
        reject(new ExportChildFailed(`the export's child process ${why}`));
      };
      child.on('error', (err) => fail(`failed: ${err.message}`));
      child.on('exit', (code, signal) => {
        fail(
          diedOfMemory(stderr(), code, signal)
            ? 'ran out of memory'
            : `stopped (${signal ?? `exit code ${code}`})`,
        );
      });
      child.on('message', (m: ExportChildMessage) => {
        if ('ready' in m)
          child.send(job, (err) => {
            if (err) fail(`was not given the job: ${err.message}`);
          });
        else if ('progress' in m) onProgress(m.progress);
        else if ('error' in m) fail(`failed: ${m.error}`);
        else if ('done' in m && !settled) {
          settled = true;
          resolve(m.done);
        }
      });
    });
  } finally {
    exportChildren.delete(child);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
