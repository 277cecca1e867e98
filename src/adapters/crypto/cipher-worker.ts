import { randomBytes } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { lookupHash, sealStored } from './stored-value.ts';

// The cipher worker (a thread of its own, started by FieldCipher.worker), for spreadsheet imports: a
// batch of clear values joined by LF (callers' values are normalised ID numbers, phones and card
// numbers: a value with a line break is refused) is answered with their stored values (op 'seal', ''
// stays '') or their look-up hashes (op 'hash', one kind per batch), joined by LF. The format's code is
// stored-value.ts, the same as FieldCipher.encrypt and FieldCipher.hash.

export interface CipherWorkerData {
  /** Version and derived key of the current encryption key, and the look-up hash key. */
  version: number;
  key: Uint8Array;
  hashKey: Uint8Array;
}

export interface CipherWorkerRequest {
  id: number;
  op: 'seal' | 'hash';
  kind: string;
  n: number;
  plain: string;
}

export type CipherWorkerReply = { id: number; out: string } | { id: number; out?: undefined; error: string };

const IV_BYTES = 12;
const port = parentPort;
if (!port) throw new Error('cipher-worker.ts runs as a worker thread (FieldCipher.worker)');
const data = workerData as CipherWorkerData;
const key = Buffer.from(data.key);
const hashKey = Buffer.from(data.hashKey);
// Random IVs drawn from a block of random bytes: one getrandom call per 256 values.
let pool = Buffer.alloc(0);
let at = 0;

port.on('message', ({ id, op, kind, n, plain }: CipherWorkerRequest) => {
  try {
    const values = plain.split('\n');
    if (values.length !== n) throw new Error('a value to encrypt contains a line break');
    const out = new Array<string>(n);
    for (let i = 0; i < n; i++) {
      const v = values[i]!;
      if (op === 'hash') out[i] = lookupHash(hashKey, kind, v);
      else if (v === '') out[i] = '';
      else {
        if (at + IV_BYTES > pool.length) {
          pool = randomBytes(IV_BYTES * 256);
          at = 0;
        }
        out[i] = sealStored(data.version, key, pool.subarray(at, at + IV_BYTES), v);
        at += IV_BYTES;
      }
    }
    port.postMessage({ id, out: out.join('\n') } satisfies CipherWorkerReply);
  } catch (err) {
    port.postMessage({
      id,
      error: err instanceof Error ? err.message : String(err),
    } satisfies CipherWorkerReply);
  }
});
