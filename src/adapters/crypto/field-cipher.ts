import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { Worker } from 'node:worker_threads';

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

/**
 * Decrypts one stored value to its UTF-8 bytes. Self-contained (its dependency passed in, the sizes
 * written out) because the decryption worker runs this function's own source: the stored format is
 * read in one place.
 */
function openStored(keys: Map<number, Buffer>, stored: string, decipherOf: typeof createDecipheriv): Buffer {
  const sep = stored.indexOf(':');
  const key = keys.get(Number(stored.slice(0, sep)));
  if (sep < 1 || !key)
    throw new Error(`no data key with version ${stored.slice(0, Math.max(sep, 0))} is configured`);
  const raw = Buffer.from(stored.slice(sep + 1), 'base64');
  // 12 bytes of IV, 16 of authentication tag, then the ciphertext.
  const decipher = decipherOf('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  const plain = decipher.update(raw.subarray(28));
  const tail = decipher.final(); // checks the tag (GCM adds no bytes here)
  return tail.length ? Buffer.concat([plain, tail]) : plain;
}

/**
 * Encrypts one value into the stored format, "<version>:<base64(iv | tag | ciphertext)>". Self-contained
 * like openStored: the encryption worker runs this function's own source.
 */
function sealStored(
  version: number,
  key: Buffer,
  iv: Buffer,
  plain: string,
  cipherOf: typeof createCipheriv,
): string {
  const cipher = cipherOf('aes-256-gcm', key, iv);
  const ct = cipher.update(plain, 'utf8');
  cipher.final(); // GCM adds no bytes here
  return `${version}:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')}`;
}

/** The keyed look-up hash of `kind` and a normalised value. Self-contained: the cipher worker runs its source. */
function lookupHash(key: Buffer, kind: string, normalised: string, hmacOf: typeof createHmac): string {
  return hmacOf('sha256', key).update(`${kind}\u0000${normalised}`).digest('hex');
}

// The worker gets a batch as one string (values joined by LF, which base64 and the version never
// contain) and answers with one transferred buffer of UTF-8 texts and their end offsets: a few
// thousand separate strings each way cost the export's thread more in structured cloning than the
// decryption it hands over.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createDecipheriv } = require('node:crypto');
const open = ${openStored.toString()};
const keys = new Map(workerData.map(([v, k]) => [v, Buffer.from(k)]));
parentPort.on('message', ({ id, n, sealed }) => {
  try {
    const values = sealed.split('\\n');
    if (values.length !== n) throw new Error('a stored value contains a line break');
    const parts = [];
    const ends = new Uint32Array(n);
    let size = 0;
    for (let i = 0; i < n; i++) {
      if (values[i]) {
        const p = open(keys, values[i], createDecipheriv);
        parts.push(p);
        size += p.length;
      }
      ends[i] = size;
    }
    const bytes = Buffer.allocUnsafeSlow(size);
    let at = 0;
    for (const p of parts) at += p.copy(bytes, at);
    parentPort.postMessage({ id, bytes, ends }, [bytes.buffer, ends.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
`;

/** See FieldCipher.decryptWorker. */
export class DecryptWorker {
  private readonly worker: Worker;
  private next = 0;
  private stopped = false;
  private readonly waiting = new Map<
    number,
    { resolve: (p: string[]) => void; reject: (e: Error) => void }
  >();

  constructor(keys: Map<number, Buffer>) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: [...keys] });
    const failAll = (err: Error) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('message', (m: { id: number; bytes?: Uint8Array; ends?: Uint32Array; error?: string }) => {
      const w = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      if (this.waiting.size === 0) this.worker.unref();
      if (!m.bytes || !m.ends) return w?.reject(new Error(m.error));
      const bytes = Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength);
      const plain = new Array<string>(m.ends.length);
      let start = 0;
      for (let i = 0; i < m.ends.length; i++) {
        const end = m.ends[i]!;
        plain[i] = end > start ? bytes.toString('utf8', start, end) : '';
        start = end;
      }
      w?.resolve(plain);
    });
    this.worker.on('error', failAll);
    this.worker.on('exit', () => {
      this.stopped = true;
      failAll(new Error('the decryption worker stopped'));
    });
    // Keeps the process alive only while a batch is being decrypted: an idle worker that was never
    // closed (an abandoned export) must not hold the process open.
    this.worker.unref();
  }

  /** The plain texts of `values`, in order ('' for null or ''). */
  decrypt(values: (string | null)[]): Promise<string[]> {
    if (this.stopped) return Promise.reject(new Error('the decryption worker stopped'));
    if (values.length === 0) return Promise.resolve([]);
    const id = this.next++;
    return new Promise((resolve, reject) => {
      if (this.waiting.size === 0) this.worker.ref();
      this.waiting.set(id, { resolve, reject });
      this.worker.postMessage({ id, n: values.length, sealed: values.join('\n') });
    });
  }

  async close(): Promise<void> {
    this.stopped = true;
    await this.worker.terminate();
  }
}

// The cipher worker, for imports: a batch of clear values joined by LF (callers' values are normalised
// ID numbers, phones and card numbers: a value with a line break is refused) is answered with their
// stored values (op 'seal', '' stays '') or their look-up hashes (op 'hash', one kind per batch),
// joined by LF.
const CIPHER_WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { createCipheriv, createHmac, randomBytes } = require('node:crypto');
const seal = ${sealStored.toString()};
const lookupHash = ${lookupHash.toString()};
const key = Buffer.from(workerData.key);
const hashKey = Buffer.from(workerData.hashKey);
let pool = Buffer.alloc(0);
let at = 0;
parentPort.on('message', ({ id, op, kind, n, plain }) => {
  try {
    const values = plain.split('\\n');
    if (values.length !== n) throw new Error('a value to encrypt contains a line break');
    const out = new Array(n);
    for (let i = 0; i < n; i++) {
      if (op === 'hash') {
        out[i] = lookupHash(hashKey, kind, values[i], createHmac);
        continue;
      }
      if (values[i] === '') {
        out[i] = '';
        continue;
      }
      if (at + 12 > pool.length) {
        pool = randomBytes(12 * 256);
        at = 0;
      }
      out[i] = seal(workerData.version, key, pool.subarray(at, at + 12), values[i], createCipheriv);
      at += 12;
    }
    parentPort.postMessage({ id, out: out.join('\\n') });
  } catch (err) {
    parentPort.postMessage({ id, error: err instanceof Error ? err.message : String(err) });
  }
});
`;

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
    this.worker = new Worker(CIPHER_WORKER_SOURCE, { eval: true, workerData: { version, key, hashKey } });
    const failAll = (err: Error) => {
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on('message', (m: { id: number; out?: string; error?: string }) => {
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
      this.worker.postMessage({ id, op, kind, n: values.length, plain: values.join('\n') });
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
    return sealStored(this.current, this.encKeys.get(this.current)!, this.nextIv(), plain, createCipheriv);
  }

  decrypt(stored: string): string {
    return openStored(this.encKeys, stored, createDecipheriv).toString('utf8');
  }

  /**
   * A worker thread that decrypts batches of stored values (null: ''), for exports of 100,000+ rows:
   * AES-GCM costs several µs a field, and on the worker it runs beside the export's own thread.
   * `close()` it when done.
   */
  decryptWorker(): DecryptWorker {
    return new DecryptWorker(this.encKeys);
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
    return lookupHash(this.hashKey, kind, normalised, createHmac);
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
