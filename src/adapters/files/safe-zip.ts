import { inflateRawSync } from 'node:zlib';

// A zip (.xlsx, .docx) read from its central directory BEFORE anything is inflated. exceljs inflates
// every entry with no cap: a 2 MB workbook whose sheet inflates to 500 MB took the bot's memory to
// 3.7 GB. `inspectZip` refuses by the declared sizes (entry count, per-entry and total uncompressed
// size, compression ratio) in microseconds; `verifyZip` then inflates each entry with Node's
// `maxOutputLength`, so an entry that lies about its size stops at the declared size instead of
// filling memory. Only Node built-ins.

export interface ZipLimits {
  maxEntries: number;
  /** Largest uncompressed entry (bytes). */
  maxEntryBytes: number;
  /** Sum of all uncompressed entries (bytes). */
  maxTotalBytes: number;
  /** Largest uncompressed / compressed ratio, for entries above `ratioFloorBytes`. */
  maxRatio: number;
  ratioFloorBytes: number;
}

/**
 * A 20,000-row nomination sheet (the upload maximum) has a sheet part of about 12 MB that deflates about
 * 10:1; the limits leave room for that and refuse anything like a bomb.
 */
export const UPLOAD_ZIP_LIMITS: ZipLimits = {
  maxEntries: 500,
  maxEntryBytes: 48 * 1024 * 1024,
  maxTotalBytes: 96 * 1024 * 1024,
  maxRatio: 150,
  ratioFloorBytes: 1024 * 1024,
};

export interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  size: number;
  /** Offset of the local file header. */
  localOffset: number;
}

export type ZipRefusal = 'zip_bad' | 'zip_too_large';
export type ZipInspection =
  | { ok: true; entries: ZipEntry[] }
  | { ok: false; code: ZipRefusal; detail: string };

const EOCD = 0x06054b50;
const CEN = 0x02014b50;
const LOC = 0x04034b50;

export const isZip = (b: Uint8Array) => b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b;

const bad = (detail: string): ZipInspection => ({ ok: false, code: 'zip_bad', detail });
const big = (detail: string): ZipInspection => ({ ok: false, code: 'zip_too_large', detail });

/** Reads the central directory and checks the declared sizes against `limits`. Never inflates. */
export function inspectZip(bytes: Uint8Array, limits: ZipLimits = UPLOAD_ZIP_LIMITS): ZipInspection {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 22) return bad('short');
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === EOCD) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) return bad('no end of central directory');
  const total = buf.readUInt16LE(eocd + 10);
  const cdSize = buf.readUInt32LE(eocd + 12);
  const cdOffset = buf.readUInt32LE(eocd + 16);
  // Zip64 markers: an .xlsx that needs zip64 is far beyond any upload limit.
  if (total === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) return big('zip64');
  if (total > limits.maxEntries) return big(`${total} entries`);
  if (cdOffset + cdSize > eocd) return bad('central directory out of range');
  const entries: ZipEntry[] = [];
  let sum = 0;
  let p = cdOffset;
  for (let n = 0; n < total; n++) {
    if (p + 46 > cdOffset + cdSize || buf.readUInt32LE(p) !== CEN) return bad('central directory entry');
    const flags = buf.readUInt16LE(p + 8);
    const method = buf.readUInt16LE(p + 10);
    const compressedSize = buf.readUInt32LE(p + 20);
    const size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    const localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    p += 46 + nameLen + extraLen + commentLen;
    if (compressedSize === 0xffffffff || size === 0xffffffff || localOffset === 0xffffffff)
      return big('zip64 entry');
    if (flags & 1) return bad('encrypted entry');
    if (method !== 0 && method !== 8) return bad(`compression method ${method}`);
    if (localOffset + 30 + compressedSize > cdOffset) return bad('entry out of range');
    if (size > limits.maxEntryBytes) return big(`${name}: ${size} bytes`);
    if (size > limits.ratioFloorBytes && size / Math.max(1, compressedSize) > limits.maxRatio)
      return big(`${name}: ratio ${Math.round(size / Math.max(1, compressedSize))}`);
    if (method === 0 && size !== compressedSize) return bad('stored entry sizes differ');
    sum += size;
    if (sum > limits.maxTotalBytes) return big(`total ${sum} bytes`);
    entries.push({ name, method, compressedSize, size, localOffset });
  }
  return { ok: true, entries };
}

/** The compressed bytes of one entry (after its local header). */
function rawData(buf: Buffer, e: ZipEntry): Buffer {
  if (buf.readUInt32LE(e.localOffset) !== LOC) throw new Error('local header');
  const start =
    e.localOffset + 30 + buf.readUInt16LE(e.localOffset + 26) + buf.readUInt16LE(e.localOffset + 28);
  if (start + e.compressedSize > buf.length) throw new Error('entry data out of range');
  return buf.subarray(start, start + e.compressedSize);
}

/** Inflates one entry, never producing more than its declared size. Throws on a lie or damage. */
export function readZipEntry(bytes: Uint8Array, e: ZipEntry): Buffer {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const data = rawData(buf, e);
  if (e.method === 0) return Buffer.from(data);
  // maxOutputLength makes zlib stop (RangeError) one byte past the declared size.
  const out = inflateRawSync(data, { maxOutputLength: Math.max(1, e.size + 1) });
  if (out.length !== e.size) throw new Error(`${e.name}: inflated ${out.length}, declared ${e.size}`);
  return out;
}

/** Inflates every entry within its declared size (so the sizes inspectZip checked are the real ones). */
export function verifyZip(
  bytes: Uint8Array,
  entries: ZipEntry[],
  /** Receives each entry's inflated bytes (a parser that reads them next need not inflate them again). */
  keep?: (e: ZipEntry, data: Buffer) => void,
): { ok: true } | { ok: false; detail: string } {
  for (const e of entries) {
    try {
      const data = readZipEntry(bytes, e);
      keep?.(e, data);
    } catch (err) {
      return { ok: false, detail: err instanceof Error ? err.message : String(err) };
    }
  }
  return { ok: true };
}
