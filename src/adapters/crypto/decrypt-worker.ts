import { parentPort, workerData } from 'node:worker_threads';
import { cursorBatches } from '../db/cursor.ts';
import { openStored } from './stored-value.ts';

// The decryption worker (a thread of its own, started by FieldCipher.decryptedRows): it reads the rows
// of one statement behind a server-side cursor, decrypts the sealed columns with `openStored` (the one
// reader of the stored format) and hands each batch to the export's thread as ONE JSON string.
//
// Why the worker reads the rows itself (measured, issue 13): the driver's row objects are promoted to
// V8's old generation by the handful of long-lived objects that point at them (query, result, socket
// parser), so on the export's thread every row read became old-space garbage, and V8 lets the old space
// of a process grow to about four times its live size before a full collection (+100 MB at 100,000
// rows, more than at 10,000). Here that garbage stays in a heap capped by `resourceLimits`, where V8
// collects early; the export's thread parses one JSON string a batch, whose objects die young.
// Credits bound the memory: at most `ahead` batches wait for the export's thread, whatever the row count.

export interface DecryptWorkerData {
  /** Field-encryption keys by version (already derived: see FieldCipher). */
  keys: [number, Uint8Array][];
  connectionString: string;
  sql: string;
  params: unknown[];
  batchSize: number;
  /** Positions of the encrypted columns in each row (null or '' decrypt to ''). */
  sealed: number[];
  /** Batches sent before the first credit comes back. */
  ahead: number;
}

/** export thread → worker: a credit (one more batch may be sent), or stop early. */
export type DecryptWorkerCommand = number | 'stop';
/** worker → export thread: a batch (JSON of the rows), the end, or why it stopped. */
export type DecryptWorkerMessage = string | { done: true } | { error: string };

const port = parentPort;
if (!port) throw new Error('decrypt-worker.ts runs as a worker thread (FieldCipher.decryptedRows)');
const data = workerData as DecryptWorkerData;
const keys = new Map(data.keys.map(([v, k]) => [v, Buffer.from(k)] as const));
let credit = data.ahead;
let stopping = false;
let wake: (() => void) | undefined;
port.on('message', (m: DecryptWorkerCommand) => {
  if (m === 'stop') stopping = true;
  else credit++;
  wake?.();
  wake = undefined;
});

try {
  for await (const batch of cursorBatches(data.connectionString, data.sql, data.params, data.batchSize)) {
    if (stopping) break;
    for (const row of batch)
      for (const c of data.sealed) {
        const v = row[c];
        row[c] = typeof v === 'string' && v ? openStored(keys, v).toString('utf8') : '';
      }
    while (credit === 0 && !stopping) await new Promise<void>((resolve) => (wake = resolve));
    if (stopping) break; // leaving the loop closes the cursor, its transaction and its connection
    credit--;
    port.postMessage(JSON.stringify(batch) satisfies DecryptWorkerMessage);
  }
  if (!stopping) port.postMessage({ done: true } satisfies DecryptWorkerMessage);
} catch (err) {
  port.postMessage({
    error: err instanceof Error ? err.message : String(err),
  } satisfies DecryptWorkerMessage);
} finally {
  port.close(); // nothing left to wait for: the thread ends
}
