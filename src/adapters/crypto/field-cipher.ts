import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { compiled, ownEntry } from '../package-root.ts';
import type { DecryptWorkerCommand, DecryptWorkerData, DecryptWorkerMessage } from './decrypt-worker.ts';
import type { CipherWorkerData, CipherWorkerReply, CipherWorkerRequest } from './cipher-worker.ts';
import { lookupHash, openStored, sealStored } from './stored-value.ts';

// Field-level protection for ID numbers, phones and bank cards.
// - encrypt(): AES-256-GCM, stored as "<keyVersion>:<base64(iv | tag | ciphertext)>", so keys can rotate:
//   new values use the current (first) key, old values stay readable while their key is configured.
// - hash(): HMAC-SHA256 (hex) for equality look-ups such as duplicate detection. It must stay stable
//   while keys rotate, so its key comes from one chosen key version (`hashKeyVersion`, default the
//   OLDEST configured key). To retire that key, `npm run keys -- rotate` re-encrypts every field and
//   re-computes every hash with the current key; then DATA_HASH_KEY_VERSION names the current version.
// Per-purpose sub-keys come from HKDF so one DATA_KEY never serves two algorithms directly.

export interface DataKey {
  version: number;
  key: Buffer;
}

const IV_BYTES = 12;

function subKey(master: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `warmth-bot/${purpose}`, 32));
}

// The decryption worker's entry: under tsx (dev, tests) a bootstrap that registers tsx first; in the
// production build (dist/) its own bundle, started directly.
const WORKER_ENTRY = ownEntry('adapters/crypto/decrypt-worker').file;
/**
 * The worker's heap: below 256 MB of old space V8 grows a heap by 1.3× its live size before a full
 * collection (4× in a process with gigabytes), and the worker's live data is two batches. Far above
 * what it needs: reaching the cap would stop the export (and, nodejs/node#47224, maybe the process).
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 96, maxYoungGenerationSizeMb: 8 };
// The cipher worker's entry (imports: encryption and look-up hashes off the bot's thread), started the
// same way.
const CIPHER_WORKER_ENTRY = ownEntry('adapters/crypto/cipher-worker').file;
/** Its live data is one batch of a file's values each way. */
const CIPHER_WORKER_LIMITS = { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 8 };
/** Batches the worker prepares before the export's thread takes the first. */
const WORKER_AHEAD = 2;
/** How long a worker stopped early may take to close its cursor before it is terminated. */
const WORKER_STOP_MS = 5_000;

export interface DecryptedRowsQuery {
  /** PostgreSQL connection string (the worker opens a connection of its own: see db/cursor.ts). */
  connectionString: string;
  sql: string;
  params: unknown[];
  batchSize: number;
  /** Positions of the encrypted columns, decrypted to their text ('' for null or ''). */
  sealed: number[];
}

/** See FieldCipher.worker. */
export class CipherWorker {
  private readonly worker: Worker;
  private next = 0;
  private stopped = false;
  private readonly waiting = new Map<
    number,
    { resolve: (s: string[]) => void; reject: (e: Error) => void }
  >();

  constructor(version: number, key: Buffer, hashKey: Buffer) {
    const workerData: CipherWorkerData = { version, key, hashKey };
    this.worker = new Worker(CIPHER_WORKER_ENTRY, {
      workerData,
      resourceLimits: CIPHER_WORKER_LIMITS,
      ...(compiled ? {} : { execArgv: [] }),
    });
    const failAll = (err: Error) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('message', (m: CipherWorkerReply) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (m.out === undefined) return w?.reject(new Error(m.error));
      w?.resolve(m.out.split('\n'));
    });
    this.worker.on('error', failAll);
    this.worker.on('exit', () => {
      this.stopped = true;
      failAll(new Error('the cipher worker stopped'));
    });
    this.worker.unref();
  }

  /** The stored values of `plain`, in order ('' for ''). Batches are answered in the order sent. */
  encrypt(plain: readonly string[]): Promise<string[]> {
    return this.send('seal', '', plain);
  }

  /** The look-up hashes (as FieldCipher.hash) of `normalised` values of one kind, in order. */
  hash(kind: 'id' | 'phone' | 'card', normalised: readonly string[]): Promise<string[]> {
    return this.send('hash', kind, normalised);
  }

  private send(op: 'seal' | 'hash', kind: string, values: readonly string[]): Promise<string[]> {
    if (this.stopped) return Promise.reject(new Error('the cipher worker stopped'));
    if (values.length === 0) return Promise.resolve([]);
    for (const v of values)
      if (v.includes('\n')) return Promise.reject(new Error('a value to encrypt contains a line break'));
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({
        id,
        op,
        kind,
        n: values.length,
        plain: values.join('\n'),
      } satisfies CipherWorkerRequest);
    });
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.worker.terminate();
  }
}

export class FieldCipher {
  private readonly encKeys = new Map<number, Buffer>();
  private readonly current: number;
  private readonly hashKey: Buffer;
  private readonly signKey: Buffer;

  constructor(keys: DataKey[], hashKeyVersion?: number) {
    const first = keys[0];
    if (!first) throw new Error('FieldCipher needs at least one key');
    for (const k of keys) this.encKeys.set(k.version, subKey(k.key, 'field-encryption'));
    this.current = first.version;
    const oldest = keys.reduce((a, b) => (b.version < a.version ? b : a));
    const hashing = hashKeyVersion === undefined ? oldest : keys.find((k) => k.version === hashKeyVersion);
    if (!hashing) throw new Error(`no data key with version ${hashKeyVersion} for the look-up hash`);
    this.hashKey = subKey(hashing.key, 'lookup-hash');
    this.signKey = subKey(hashing.key, 'signature');
  }

  /** Random IVs drawn from a block of random bytes: one getrandom call per 256 values, not per value. */
  private ivPool: Buffer = Buffer.alloc(0);
  private ivAt = 0;

  private nextIv(): Buffer {
    if (this.ivAt + IV_BYTES > this.ivPool.length) {
      this.ivPool = randomBytes(IV_BYTES * 256);
      this.ivAt = 0;
    }
    const iv = this.ivPool.subarray(this.ivAt, this.ivAt + IV_BYTES);
    this.ivAt += IV_BYTES;
    return iv;
  }

  get currentVersion(): number {
    return this.current;
  }

  encrypt(plain: string): string {
    return sealStored(this.current, this.encKeys.get(this.current)!, this.nextIv(), plain);
  }

  decrypt(stored: string): string {
    return openStored(this.encKeys, stored).toString('utf8');
  }

  /**
   * The rows of `q.sql` (as arrays, `q.batchSize` at a time) read behind a server-side cursor and
   * decrypted on a worker thread (decrypt-worker.ts), for exports of 100,000+ rows: the driver's
   * garbage and AES-GCM (several µs a field) stay off the export's thread and its heap, and the worker
   * reads and decrypts the next batches while the export writes this one. Stopping the iteration early
   * stops the worker (its connection closes, PostgreSQL ends the cursor's transaction).
   */
  decryptedRows(q: DecryptedRowsQuery): AsyncGenerator<unknown[][]> {
    return decryptedRowsWith(this.decryptionKeys(), q);
  }

  /**
   * The derived field-encryption keys by version, as the decryption worker gets them (for the export's
   * child process, over IPC: never in an environment).
   */
  decryptionKeys(): [number, Uint8Array][] {
    return [...this.encKeys];
  }

  /**
   * A worker thread that encrypts batches of values with the current key and computes look-up hashes,
   * for a spreadsheet's 10,000 rows: their ~30,000 HMACs and ~30,000 AES-GCM encryptions then run
   * beside the bot's thread (which checks, serialises and sends the rows) instead of on it. `close()`
   * it when done.
   */
  worker(): CipherWorker {
    return new CipherWorker(this.current, this.encKeys.get(this.current)!, this.hashKey);
  }

  /** Version of the key a stored value was encrypted with (for re-encryption after rotation). */
  keyVersionOf(stored: string): number {
    return Number(stored.slice(0, stored.indexOf(':')));
  }

  /** Keyed hash for equality look-ups; `kind` separates namespaces (an ID never equals a phone). */
  hash(kind: 'id' | 'phone' | 'card' | 'invite' | 'link', normalised: string): string {
    return lookupHash(this.hashKey, kind, normalised);
  }

  /** Short MAC for opaque tokens such as callback data (base64url, `length` characters). */
  sign(data: string, length = 10): string {
    return createHmac('sha256', this.signKey).update(data).digest('base64url').slice(0, length);
  }

  verify(data: string, mac: string, length = 10): boolean {
    const expected = Buffer.from(this.sign(data, length));
    const given = Buffer.from(mac);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }
}

/** A random URL-safe token (deep-link payloads: at most 64 chars of A-Za-z0-9_-). */
export function randomToken(bytes = 18): string {
  return randomBytes(bytes).toString('base64url');
}

/**
 * FieldCipher.decryptedRows with the derived keys given (`FieldCipher.decryptionKeys`): what the export's
 * child process runs, which holds the keys it was sent and no master key.
 */
export async function* decryptedRowsWith(
  keys: [number, Uint8Array][],
  q: DecryptedRowsQuery,
): AsyncGenerator<unknown[][]> {
  const workerData: DecryptWorkerData = { ...q, keys, ahead: WORKER_AHEAD };
  const worker = new Worker(WORKER_ENTRY, {
    workerData,
    resourceLimits: WORKER_LIMITS,
    // The built worker keeps the process's flags (source maps); under tsx the bootstrap loads tsx.
    ...(compiled ? {} : { execArgv: [] }),
  });
  const inbox: DecryptWorkerMessage[] = [];
  let failure: Error | undefined;
  let wake: (() => void) | undefined;
  const woken = () => {
    wake?.();
    wake = undefined;
  };
  worker.on('message', (m: DecryptWorkerMessage) => {
    inbox.push(m);
    woken();
  });
  worker.on('error', (err) => {
    failure = err;
    woken();
  });
  worker.on('exit', () => {
    failure ??= new Error('the decryption worker stopped');
    woken();
  });
  let exited = false;
  const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  gone.then(() => (exited = true));
  let finished = false;
  try {
    for (;;) {
      while (inbox.length === 0 && !failure) await new Promise<void>((resolve) => (wake = resolve));
      const m = inbox.shift();
      if (m === undefined) throw failure ?? new Error('the decryption worker stopped');
      if (typeof m === 'string') {
        worker.postMessage(1 satisfies DecryptWorkerCommand); // the worker may prepare one more batch
        yield JSON.parse(m) as unknown[][];
      } else if ('error' in m) throw new Error(m.error);
      else {
        finished = true;
        return;
      }
    }
  } finally {
    // Stopped early (the consumer broke off or failed): the worker closes its cursor, transaction and
    // connection itself, so none is left open when this returns; terminated if it takes too long.
    if (!finished && !exited) {
      worker.postMessage('stop' satisfies DecryptWorkerCommand);
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, WORKER_STOP_MS).unref())]);
    }
    await worker.terminate();
  }
}
