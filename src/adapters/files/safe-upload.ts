import type { AllocationSheetParse } from './allocation-sheet.ts';
import type { ChildProcess } from 'node:child_process';
import type { HandoverParse, ReturnParse } from './bank-files.ts';
import { diedOfMemory, forkLean } from './lean-child.ts';
import type { EntryListParse } from './ledger-xlsx.ts';
import type { ParseOptions, ParseResult, SheetRow } from './nomination-sheet.ts';
import { inspectZip, isZip, UPLOAD_ZIP_LIMITS, type ZipLimits } from './safe-zip.ts';

// The one door every uploaded spreadsheet goes through (nomination sheet, bank return file, handover
// sheet, returned entry list). A zip is refused from its central directory before anything is inflated
// (safe-zip.ts); what passes is parsed in a child process with a heap cap and a time limit, so a hostile
// file costs the bot neither its event loop (other people's replies) nor its heap, nor the process itself
// when the parser dies. At most PARALLEL parses run at once; a short queue waits, beyond it the user is
// asked to retry. Each child serves one file and is then killed; one spare is kept booted so the next
// upload does not wait for module loading (bench/safe-upload.bench.ts).

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

/** What the child receives (IPC with the advanced, structured-clone serialization). */
export interface UploadJob {
  kind: UploadKind;
  bytes: Uint8Array;
  fileName: string;
  sheetOptions?: ParseOptions;
  limits: ZipLimits;
  /** Nomination sheets: send the rows in slices of this many while parsing (`{ rows }` messages). */
  sliceRows?: number;
}

export interface SafeParseOptions {
  /** Nomination sheets: required columns and row limit. */
  sheetOptions?: ParseOptions;
  /**
   * Default 30 s: a 20,000-row sheet takes one or two. A 2.7 MB workbook of 148,000 small rows (within
   * the zip limits) ran past 60 s in exceljs: the limit is what bounds such a file.
   */
  timeoutMs?: number;
  /** The child's heap cap (old generation), default 512 MB (a spare child is kept booted for it). */
  maxHeapMb?: number;
  limits?: ZipLimits;
  /**
   * Nomination sheets: called with each slice of rows (ROW_SLICE of them, in file order) while the
   * child parses the rest, so the caller can check them meanwhile. Only a parse that ends `ok` makes
   * them rows of the file (the result holds them all, these included); on any other outcome (refused,
   * a sheet error, the child's death) the caller drops what it got. Never called after the promise
   * settles.
   */
  onRows?: (rows: SheetRow[]) => void;
}

/** Rows a child sends at a time when the caller takes them while the file is parsed. */
export const ROW_SLICE = 1000;

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

// Under tsx the child registers tsx first (parse-worker-boot.mjs); the production build (dist/) has the
// parser's own bundle, started directly (lean-child.ts).
const PARSER = 'adapters/files/parse-worker';
const DEFAULT_HEAP_MB = 512;

interface Booting {
  child: ChildProcess;
  /** Resolves when the child has loaded its modules (false: it died first). */
  ready: Promise<boolean>;
  /** The end of what the child wrote to stderr (V8 prints its fatal out-of-memory line there). */
  stderr: () => string;
}

// A child process, not a worker thread: a worker's heap cap is best-effort (V8 can abort the whole
// process when a capped worker runs out of heap in some allocation patterns, nodejs/node#47224), and a
// native crash in a worker thread takes the bot with it. A child that dies costs only itself. Its
// environment holds no secrets (no DATA_KEY, no database or Redis address): it parses bytes, nothing else.
function boot(maxHeapMb: number): Booting {
  const { child, stderr } = forkLean(PARSER, [
    `--max-old-space-size=${maxHeapMb}`,
    '--max-semi-space-size=16',
  ]);
  // An idle spare never keeps the bot's process alive.
  idle(child);
  const ready = new Promise<boolean>((resolve) => {
    child.once('message', () => resolve(true));
    child.once('error', () => resolve(false));
    child.once('exit', () => resolve(false));
  });
  // A failed spawn (EAGAIN, ENOMEM) is reported through `ready`; never an unhandled 'error'.
  child.on('error', () => {});
  return { child, ready, stderr };
}

type Refable = { ref?: () => void; unref?: () => void };
function idle(child: ChildProcess) {
  child.unref();
  (child.channel as Refable | undefined)?.unref?.();
  (child.stderr as Refable | null)?.unref?.();
}
function busy(child: ChildProcess) {
  child.ref();
  (child.channel as Refable | undefined)?.ref?.();
  (child.stderr as Refable | null)?.ref?.();
}

/** One booted child kept for the next upload (default limits), so an upload does not wait for it. */
let spare: Booting | undefined;

function takeChild(maxHeapMb: number): Booting {
  if (maxHeapMb !== DEFAULT_HEAP_MB) return boot(maxHeapMb);
  const c =
    spare && spare.child.exitCode === null && spare.child.signalCode === null ? spare : boot(maxHeapMb);
  spare = undefined;
  return c;
}

/**
 * The next spare boots a moment after a parse, not during the work that follows it: under tsx a boot
 * costs over a second of CPU, which the bot needs right then to check and store the rows it just got
 * (bench/nomination-import.bench.ts). An upload in between boots its own child.
 */
const SPARE_DELAY_MS = 3_000;
let refillTimer: NodeJS.Timeout | undefined;
function refillSpare() {
  if (spare || refillTimer) return;
  refillTimer = setTimeout(() => {
    refillTimer = undefined;
    spare ??= boot(DEFAULT_HEAP_MB);
  }, SPARE_DELAY_MS);
  refillTimer.unref();
}

/** How a child that died before answering is reported. */
function deathOf(code: number | null, signal: NodeJS.Signals | null, stderr: string): UploadRefusal {
  if (diedOfMemory(stderr, code, signal)) return 'too_much_memory';
  return 'unreadable';
}

async function inChild(
  job: UploadJob,
  timeoutMs: number,
  maxHeapMb: number,
  onRows?: (rows: SheetRow[]) => void,
): Promise<unknown> {
  const { child, ready, stderr } = takeChild(maxHeapMb);
  busy(child);
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
      child.on('exit', (code, signal) => done({ refused: deathOf(code, signal, stderr()) }));
      void ready.then((ok) => {
        if (!ok) {
          // Died while booting: its exit (and stderr) tell why.
          if (child.exitCode === null && child.signalCode === null) done({ refused: 'unreadable' });
          return;
        }
        child.on('message', (m: { rows?: SheetRow[] }) => {
          if (settled) return;
          if (onRows && Array.isArray(m.rows)) onRows(m.rows);
          else done(m);
        });
        child.send(job, (err) => {
          if (err) done({ refused: 'unreadable' });
        });
      });
    });
  } finally {
    // One file per child: nothing of a hostile file outlives its parse.
    child.removeAllListeners('message');
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
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
    const streamed = kind === 'nomination_sheet' && opts.onRows ? opts.onRows : undefined;
    const job: UploadJob = {
      kind,
      bytes,
      fileName,
      limits,
      ...(opts.sheetOptions ? { sheetOptions: opts.sheetOptions } : {}),
      ...(streamed ? { sliceRows: ROW_SLICE } : {}),
    };
    // The slices received, kept to be the result's rows (the child's last message holds the rest).
    const received: SheetRow[] = [];
    const onRows = streamed
      ? (rows: SheetRow[]) => {
          for (const r of rows) received.push(r);
          streamed(rows);
        }
      : undefined;
    const r = (await inChild(job, opts.timeoutMs ?? 30_000, opts.maxHeapMb ?? DEFAULT_HEAP_MB, onRows)) as
      | { value: ResultOf[K] }
      | { refused: UploadRefusal };
    if ('refused' in r) return { ok: false, refused: r.refused };
    const value = r.value as ResultOf[K];
    if (streamed && received.length > 0 && (value as ParseResult).ok) {
      const sheet = value as ParseResult & { ok: true };
      for (const row of sheet.rows) received.push(row);
      sheet.rows = received;
    }
    return { ok: true, value };
  } finally {
    release();
  }
}
