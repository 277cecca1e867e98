import type { IncomingMessage } from 'node:http';
import { badRequest, tooLarge } from './errors.ts';
import { Params, type UploadedFile } from './params.ts';

/** Part types that carry no information (undici's defaults): infer from the file name instead. */
const GENERIC_TYPES = new Set(['', 'text/plain', 'application/octet-stream']);

/** Reads the whole request body, failing with 413 past `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Parses query string plus a JSON, urlencoded or multipart body into Bot API params. */
export async function parseParams(req: IncomingMessage, url: URL, limit: number): Promise<Params> {
  const values: Record<string, unknown> = Object.fromEntries(url.searchParams);
  const files = new Map<string, UploadedFile>();
  if (req.method === 'GET' || req.method === 'HEAD') return new Params(values, files);
  const body = await readBody(req, limit);
  if (body.length === 0) return new Params(values, files);
  const rawType = req.headers['content-type'] ?? '';
  const type = rawType.toLowerCase();
  if (type.startsWith('application/json')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      throw badRequest("can't parse JSON body");
    }
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) Object.assign(values, parsed);
  } else if (type.startsWith('application/x-www-form-urlencoded')) {
    Object.assign(values, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
  } else if (type.startsWith('multipart/form-data')) {
    let form: FormData;
    try {
      form = await new Response(body, { headers: { 'content-type': rawType } }).formData();
    } catch {
      throw badRequest("can't parse multipart/form-data body");
    }
    for (const [key, value] of form) {
      if (typeof value === 'string') {
        values[key] = value;
      } else {
        files.set(key, {
          fileName: value.name,
          mimeType: GENERIC_TYPES.has(value.type) ? undefined : value.type,
          bytes: Buffer.from(await value.arrayBuffer()),
        });
      }
    }
  }
  return new Params(values, files);
}
