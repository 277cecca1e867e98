import { randomBytes } from 'node:crypto';
import { extname } from 'node:path';
import { badRequest } from './errors.ts';
import type { TgDocument, TgFile, TgPhotoSize } from './types.ts';

export interface StoredFile {
  fileId: string;
  fileUniqueId: string;
  fileName?: string;
  mimeType?: string;
  bytes: Buffer;
  kind: 'documents' | 'photos';
  filePath: string;
}

const MIME: Record<string, string> = {
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.json': 'application/json',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.xls': 'application/vnd.ms-excel',
  '.xlsx': 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  '.doc': 'application/msword',
  '.docx': 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
};

export const guessMime = (fileName: string | undefined, given?: string): string =>
  given ?? MIME[extname(fileName ?? '').toLowerCase()] ?? 'application/octet-stream';

/** Width/height from a PNG or JPEG header; a placeholder size otherwise. */
function imageSize(bytes: Buffer): { width: number; height: number } {
  if (bytes.length > 24 && bytes.readUInt32BE(0) === 0x89504e47) {
    return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20) };
  }
  if (bytes.length > 4 && bytes[0] === 0xff && bytes[1] === 0xd8) {
    let i = 2;
    while (i + 9 < bytes.length && bytes[i] === 0xff) {
      const marker = bytes[i + 1]!;
      const len = bytes.readUInt16BE(i + 2);
      if (marker >= 0xc0 && marker <= 0xc3)
        return { height: bytes.readUInt16BE(i + 5), width: bytes.readUInt16BE(i + 7) };
      i += 2 + len;
    }
  }
  return { width: 320, height: 320 };
}

export class FileStore {
  private readonly byId = new Map<string, StoredFile>();
  private readonly byPath = new Map<string, StoredFile>();
  private counter = 0;

  constructor(private readonly maxDownloadSize: number) {}

  put(bytes: Buffer, kind: StoredFile['kind'], fileName?: string, mimeType?: string): StoredFile {
    if (bytes.length === 0) throw badRequest('file must be non-empty');
    this.counter += 1;
    const prefix = kind === 'photos' ? 'AgACAgUAAxk' : 'BQACAgUAAxk';
    const ext = extname(fileName ?? '') || (kind === 'photos' ? '.jpg' : '');
    const file: StoredFile = {
      fileId: `${prefix}${randomBytes(18).toString('base64url')}`,
      fileUniqueId: `AgAD${randomBytes(6).toString('base64url')}`,
      ...(fileName !== undefined ? { fileName } : {}),
      mimeType: guessMime(fileName, mimeType),
      bytes,
      kind,
      filePath: `${kind}/file_${this.counter}${ext}`,
    };
    this.byId.set(file.fileId, file);
    this.byPath.set(file.filePath, file);
    return file;
  }

  get(fileId: string): StoredFile | undefined {
    return this.byId.get(fileId);
  }

  byFilePath(path: string): StoredFile | undefined {
    return this.byPath.get(path);
  }

  /** getFile result; Telegram refuses downloads over 20 MB. */
  describe(fileId: string | undefined): TgFile {
    const file = fileId ? this.byId.get(fileId) : undefined;
    if (!file) throw badRequest('invalid file_id');
    if (file.bytes.length > this.maxDownloadSize) throw badRequest('file is too big');
    return {
      file_id: file.fileId,
      file_unique_id: file.fileUniqueId,
      file_size: file.bytes.length,
      file_path: file.filePath,
    };
  }
}

export const documentOf = (f: StoredFile): TgDocument => ({
  file_id: f.fileId,
  file_unique_id: f.fileUniqueId,
  ...(f.fileName !== undefined ? { file_name: f.fileName } : {}),
  ...(f.mimeType !== undefined ? { mime_type: f.mimeType } : {}),
  file_size: f.bytes.length,
});

export const photoOf = (f: StoredFile): TgPhotoSize[] => [
  { file_id: f.fileId, file_unique_id: f.fileUniqueId, ...imageSize(f.bytes), file_size: f.bytes.length },
];
