import { parseHandoverSheet, parseReturnFile } from './bank-files.ts';
import { parseEntryList } from './ledger-xlsx.ts';
import { parseAllocationSheet } from './allocation-sheet.ts';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { parseSheet, type SheetRow } from './nomination-sheet.ts';
import type { UploadJob } from './safe-upload.ts';
import { inspectZip, isZip, verifyZip } from './safe-zip.ts';

// Runs in a child process with a heap cap (see safe-upload.ts): the central directory is checked again,
// every entry is inflated within its declared size, then the spreadsheet is parsed. Whatever happens
// here (a bomb that slipped through, a pathological sheet, the parser running out of heap), the bot's
// event loop, heap and process are not the ones that pay.

async function run(job: UploadJob): Promise<unknown> {
  // A nomination sheet's parts, inflated once: the check's inflation is the parser's (the sheet part of
  // a 10,000-row list is several MB).
  const inflated = job.kind === 'nomination_sheet' ? new Map<string, Buffer>() : undefined;
  if (isZip(job.bytes)) {
    const zip = inspectZip(job.bytes, job.limits);
    if (!zip.ok) return { refused: zip.code };
    const keep = inflated ? (e: { name: string }, data: Buffer) => inflated.set(e.name, data) : undefined;
    if (!verifyZip(job.bytes, zip.entries, keep).ok) return { refused: 'zip_bad' };
  }
  switch (job.kind) {
    case 'nomination_sheet':
      return {
        value: await parseSheet(
          job.bytes,
          job.fileName,
          job.sheetOptions ?? {},
          job.sliceRows ? { size: job.sliceRows, send: sendRows } : undefined,
          inflated,
        ),
      };
    case 'return_file':
      return { value: await parseReturnFile(job.bytes, job.fileName) };
    case 'handover_sheet':
      return { value: await parseHandoverSheet(job.bytes, job.fileName) };
    case 'entry_list':
      return { value: await parseEntryList(job.bytes) };
    case 'allocation_sheet':
      return { value: await parseAllocationSheet(job.bytes, job.fileName) };
  }
}

/**
 * A slice of a nomination sheet's rows, sent while the rest is parsed. The write is not waited for (the
 * parse goes on while the bot is busy checking); a turn of the event loop lets the channel write it.
 */
async function sendRows(rows: SheetRow[]) {
  send({ rows });
  await yieldToLoop();
}

// Booted ahead of need (loading tsx and the parsers takes most of a second; exceljs, for the allocation sheet
// and the entry list, is loaded at their first file): the job arrives as a message.
// One job per child: the parent kills it afterwards, so nothing of a hostile file outlives it. The child
// ends with its parent (the IPC channel closes).
const send = (m: unknown) => process.send?.(m);
process.once('message', (job) => {
  run(job as UploadJob).then(send, () => send({ refused: 'unreadable' }));
});
process.once('disconnect', () => process.exit(0));
send({ ready: true });
