import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { AllocationSheetParse } from './allocation-sheet.ts';
import { Worker } from 'node:worker_threads';
import { compiled, packageRoot } from '../package-root.ts';
import type { HandoverParse, ReturnParse } from './bank-files.ts';
import type { EntryListParse } from './ledger-xlsx.ts';
import type { ParseOptions, ParseResult } from './nomination-sheet.ts';
import { inspectZip, isZip, UPLOAD_ZIP_LIMITS, type ZipLimits } from './safe-zip.ts';

// The one door every uploaded spreadsheet goes through (nomination sheet, bank return file, handover
// sheet, returned entry list). A zip is refused from its central directory before anything is inflated
// (safe-zip.ts); what passes is parsed in a worker_thread with a heap cap and a time limit, so a hostile
// file costs the bot neither its event loop (other people's replies) nor its heap (the process). At most
// PARALLEL parses run at once; a short queue waits, beyond it the user is asked to retry. Each worker
// serves one file and is then terminated; one spare is kept booted so the next upload does not wait for
// module loading (bench/safe-upload.bench.ts).

export type UploadKind =
  | 'nomination_sheet'
  | 'return_file'
  | 'handover_sheet'
  | 'entry_list'
  | 'allocation_sheet';

interface ResultOf {
  nomination_sheet: ParseResult;
  return_file: ReturnParse;
  handover_sheet: HandoverParse;
  entry_list: EntryListParse;
  allocation_sheet: AllocationSheetParse;
}

/** Why a file was refused before its content was read; locale key `upload_refused.<code>`. */
export type UploadRefusal =
  | 'zip_too_large'
  | 'zip_bad'
  | 'too_slow'
  | 'too_much_memory'
  | 'busy'
  | 'unreadable';

export type SafeParse<K extends UploadKind> =
  | { ok: true; value: ResultOf[K] }
  | { ok: false; refused: UploadRefusal };

/** What the worker receives (structured clone). */
export interface UploadJob {
  kind: UploadKind;
  bytes: Uint8Array;
  fileName: string;
  sheetOptions?: ParseOptions;
  limits: ZipLimits;
}

export interface SafeParseOptions {
  /** Nomination sheets: required columns and row limit. */
  sheetOptions?: ParseOptions;
  /**
   * Default 30 s: a 20,000-row sheet takes one or two. A 2.7 MB workbook of 148,000 small rows (within
   * the zip limits) ran past 60 s in exceljs: the limit is what bounds such a file.
   */
  timeoutMs?: number;
  /** Worker heap cap (old generation), default 512 MB (a spare worker is kept booted for it). */
  maxHeapMb?: number;
  limits?: ZipLimits;
}

const PARALLEL = 2;
const MAX_WAITING = 16;
let running = 0;
const waiting: (() => void)[] = [];

async function slot(): Promise<(() => void) | null> {
  if (running >= PARALLEL) {
    if (waiting.length >= MAX_WAITING) return null;
    await new Promise<void>((resolve) => waiting.push(resolve));
  }
  running++;
  return () => {
    running--;
    waiting.shift()?.();
  };
}

// Under tsx the worker registers tsx first (parse-worker-boot.mjs); the production build (dist/) has the
// worker's own bundle, started directly.
const ENTRY = new URL('./parse-worker.ts', import.meta.url).href;
const BOOT = compiled
  ? pathToFileURL(join(packageRoot, 'dist', 'adapters', 'files', 'parse-worker.js'))
  : new URL('./parse-worker-boot.mjs', import.meta.url);
const DEFAULT_HEAP_MB = 512;

interface Booting {
  worker: Worker;
  /** Resolves when the worker has loaded its modules (false: it died first). */
  ready: Promise<boolean>;
}

function boot(maxHeapMb: number): Booting {
  const worker = new Worker(BOOT, {
    workerData: { entry: ENTRY },
    resourceLimits: { maxOldGenerationSizeMb: maxHeapMb, maxYoungGenerationSizeMb: 32, stackSizeMb: 4 },
    stdout: false,
    stderr: false,
  });
  worker.unref(); // an idle spare never keeps the process alive
  const ready = new Promise<boolean>((resolve) => {
    worker.once('message', () => resolve(true));
    worker.once('error', () => resolve(false));
    worker.once('exit', () => resolve(false));
  });
  return { worker, ready };
}

/** One booted worker kept for the next upload (default limits), so an upload does not wait for it. */
let spare: Booting | undefined;

function takeWorker(maxHeapMb: number): Booting {
  if (maxHeapMb !== DEFAULT_HEAP_MB) return boot(maxHeapMb);
  const w = spare ?? boot(maxHeapMb);
  spare = undefined;
  return w;
}

function refillSpare() {
  if (!spare) spare = boot(DEFAULT_HEAP_MB);
}

async function inWorker(job: UploadJob, timeoutMs: number, maxHeapMb: number): Promise<unknown> {
  const { worker, ready } = takeWorker(maxHeapMb);
  worker.ref();
  try {
    return await new Promise((resolve) => {
      let settled = false;
      const done = (v: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(v);
      };
      // The time limit covers the job, and the boot when no spare was ready.
      const timer = setTimeout(() => done({ refused: 'too_slow' }), timeoutMs);
      worker.on('error', (err: Error & { code?: string }) =>
        done({ refused: err.code === 'ERR_WORKER_OUT_OF_MEMORY' ? 'too_much_memory' : 'unreadable' }),
      );
      worker.on('exit', () => done({ refused: 'unreadable' }));
      void ready.then((ok) => {
        if (!ok) return done({ refused: 'unreadable' });
        worker.on('message', done);
        worker.postMessage(job);
      });
    });
  } finally {
    void worker.terminate();
    if (maxHeapMb === DEFAULT_HEAP_MB) refillSpare();
  }
}

/** Parses an uploaded file safely; `refused` means nothing of it was used (tell the user why). */
export async function parseUpload<K extends UploadKind>(
  kind: K,
  bytes: Uint8Array,
  fileName: string,
  opts: SafeParseOptions = {},
): Promise<SafeParse<K>> {
  const limits = opts.limits ?? UPLOAD_ZIP_LIMITS;
  if (isZip(bytes)) {
    const zip = inspectZip(bytes, limits);
    if (!zip.ok) return { ok: false, refused: zip.code };
  }
  const release = await slot();
  if (!release) return { ok: false, refused: 'busy' };
  try {
    const job: UploadJob = {
      kind,
      bytes,
      fileName,
      limits,
      ...(opts.sheetOptions ? { sheetOptions: opts.sheetOptions } : {}),
    };
    const r = (await inWorker(job, opts.timeoutMs ?? 30_000, opts.maxHeapMb ?? DEFAULT_HEAP_MB)) as
      | { value: ResultOf[K] }
      | { refused: UploadRefusal };
    return 'refused' in r ? { ok: false, refused: r.refused } : { ok: true, value: r.value };
  } finally {
    release();
  }
}
