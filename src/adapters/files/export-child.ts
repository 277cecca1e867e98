import { decryptedRowsWith } from '../crypto/field-cipher.ts';
import type { CampaignFigures } from '../../usecases/report/figures.ts';
import { type LedgerRead, type LedgerRow, ledgerPagesOf } from '../../usecases/report/ledger.ts';
import type { Locale } from '../i18n.ts';
import { exportPath, writeInParts } from './export-parts.ts';
import { writeEntryListXlsx, writeLedgerXlsx } from './ledger-xlsx.ts';

// The export's child process (started by export-process.ts for the staff jobs' ledger and entry list):
// it reads the rows behind a server-side cursor and decrypts them (on the decryption worker's thread, as
// in FieldCipher.decryptedRows), makes the ledger rows (ledgerRowMaker: the one place of masking and the
// entry deadline), writes the .xlsx parts and reports progress and the part paths, then exits. It
// imports no Prisma and no bot module: a lean process whose peak memory is the export's own (issue 13:
// the worker process idles near 290 MB, beyond the export's 200 MB budget before the first row). The
// job, with the connection string and the derived field keys, arrives over IPC: the child's environment
// holds no secrets.

export interface ExportChildJob {
  kind: 'ledger' | 'entry_list';
  read: LedgerRead;
  /** Derived field-encryption keys by version (FieldCipher.decryptionKeys). */
  keys: [number, Uint8Array][];
  sheet: { locale: Locale; title: string; settleAt: number; masked: boolean; figures?: CampaignFigures };
  partBytes: number;
  /** Where the parts go: named `<pid>-<jobId>-<part>.xlsx` in `dir` (`pid`: the parent, which removes them). */
  files: { dir: string; jobId: string; pid: number };
  /** Rows per progress message. */
  sliceRows: number;
}

/** child → parent. */
export type ExportChildMessage =
  | { ready: true }
  | { progress: number }
  /** `peakRssMb`: this process's peak RSS (the export's memory, logged and measured by the bench). */
  | { done: { rows: number; paths: string[]; peakRssMb: number } }
  | { error: string };

async function run(job: ExportChildJob, send: (m: ExportChildMessage) => Promise<void>) {
  const pages = ledgerPagesOf(job.read, (q) => decryptedRowsWith(job.keys, q));
  let written = 0;
  // Slices of a cursor batch: a part can close between any two slices, and progress moves smoothly.
  const sliced = async function* () {
    for await (const page of pages)
      for (let i = 0; i < page.length; i += job.sliceRows) {
        const slice = page.slice(i, i + job.sliceRows);
        yield slice;
        written += slice.length;
        await send({ progress: written });
      }
  };
  const { sheet } = job;
  const paths = await writeInParts<LedgerRow[]>({
    pages: sliced(),
    partBytes: job.partBytes,
    // Named under the parent's pid and the job: the parent removes every file of the job on every path.
    path: (part) => exportPath(job.files.jobId, part, job.files.dir, job.files.pid),
    write: (out, parts, part) =>
      job.kind === 'ledger'
        ? writeLedgerXlsx(out, parts, {
            locale: sheet.locale,
            settleAt: sheet.settleAt,
            masked: sheet.masked,
            title: sheet.title,
            ...(part === 1 && sheet.figures ? { figures: sheet.figures } : {}),
          })
        : writeEntryListXlsx(out, parts, {
            locale: sheet.locale,
            settleAt: sheet.settleAt,
            title: sheet.title,
          }),
  });
  return { rows: written, paths, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
}

const send = (m: ExportChildMessage) =>
  new Promise<void>((resolve, reject) => {
    if (!process.send) return reject(new Error('export-child runs as a child process (export-process.ts)'));
    process.send(m, undefined, {}, (err) => (err ? reject(err) : resolve()));
  });

// One export per child; it ends with its parent (the IPC channel closes) and when the export is done.
process.once('message', (job) => {
  run(job as ExportChildJob, send).then(
    (done) => send({ done }).finally(() => process.exit(0)),
    (err: unknown) =>
      send({ error: err instanceof Error ? err.message : String(err) })
        .catch(() => {})
        .finally(() => process.exit(1)),
  );
});
process.once('disconnect', () => process.exit(1));
void send({ ready: true });
