import { badRequest } from './errors.ts';

export interface UploadedFile {
  fileName: string;
  mimeType?: string;
  bytes: Buffer;
}

/** Bot API call parameters; values from form bodies arrive as strings and are coerced on read. */
export class Params {
  constructor(
    readonly values: Record<string, unknown>,
    readonly files: Map<string, UploadedFile> = new Map(),
  ) {}

  has(key: string): boolean {
    const v = this.values[key];
    return v !== undefined && v !== null && v !== '';
  }

  str(key: string): string | undefined {
    const v = this.values[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
    return JSON.stringify(v);
  }

  int(key: string): number | undefined {
    const v = this.values[key];
    if (v === undefined || v === null || v === '') return undefined;
    const n = typeof v === 'number' ? v : Number(v);
    if (!Number.isFinite(n) || !Number.isInteger(n)) throw badRequest(`invalid ${key} specified`);
    return n;
  }

  bool(key: string): boolean {
    const v = this.values[key];
    return v === true || v === 'true' || v === '1' || v === 1;
  }

  /** An object parameter that form bodies send as a JSON string. */
  json<T>(key: string, errorDetail: string): T | undefined {
    const v = this.values[key];
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string') return v as T;
    try {
      return JSON.parse(v) as T;
    } catch {
      throw badRequest(errorDetail);
    }
  }

  /** chat_id: an integer (or a numeric string). */
  chatId(): number {
    const raw = this.values['chat_id'];
    if (raw === undefined || raw === null || raw === '') throw badRequest('chat_id is empty');
    const n = typeof raw === 'number' ? raw : Number(raw);
    if (!Number.isInteger(n)) throw badRequest('chat not found');
    return n;
  }
}
