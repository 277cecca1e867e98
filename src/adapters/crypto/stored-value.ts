import { createCipheriv, createDecipheriv, createHmac } from 'node:crypto';

// The stored format of an encrypted field, written and read in ONE place: FieldCipher.encrypt and the
// cipher worker (cipher-worker.ts) call `sealStored`; FieldCipher.decrypt and the decryption worker
// (decrypt-worker.ts) call `openStored`; FieldCipher.hash and the cipher worker call `lookupHash`.
// "<keyVersion>:<base64(iv | tag | ciphertext)>", AES-256-GCM: 12 bytes of IV, 16 of authentication tag.

/** Decrypts one stored value to its UTF-8 bytes; throws on an unknown key version or a bad tag. */
export function openStored(keys: ReadonlyMap<number, Buffer>, stored: string): Buffer {
  const sep = stored.indexOf(':');
  const key = keys.get(Number(stored.slice(0, sep)));
  if (sep < 1 || !key)
    throw new Error(`no data key with version ${stored.slice(0, Math.max(sep, 0))} is configured`);
  const raw = Buffer.from(stored.slice(sep + 1), 'base64');
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  const plain = decipher.update(raw.subarray(28));
  const tail = decipher.final(); // checks the tag (GCM adds no bytes here)
  return tail.length ? Buffer.concat([plain, tail]) : plain;
}

/** Encrypts one value into the stored format with key `version` and a fresh 12-byte `iv`. */
export function sealStored(version: number, key: Buffer, iv: Buffer, plain: string): string {
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = cipher.update(plain, 'utf8');
  cipher.final(); // GCM adds no bytes here
  return `${version}:${Buffer.concat([iv, cipher.getAuthTag(), ct]).toString('base64')}`;
}

/** The keyed look-up hash (HMAC-SHA256, hex) of `kind` and a normalised value. */
export function lookupHash(key: Buffer, kind: string, normalised: string): string {
  return createHmac('sha256', key).update(`${kind}\u0000${normalised}`).digest('hex');
}
