import type { IncomingMessage, ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.writableEnded || res.destroyed) return;
  const payload = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
}

export function sendBytes(
  res: ServerResponse,
  bytes: Buffer,
  contentType = 'application/octet-stream',
): void {
  res.writeHead(200, { 'content-type': contentType, 'content-length': bytes.length });
  res.end(bytes);
}

/** Aborts when the client goes away before the response is written (e.g. an aborted long poll). */
export function clientSignal(req: IncomingMessage, res: ServerResponse, closing: AbortSignal): AbortSignal {
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  req.on('aborted', () => ac.abort());
  return AbortSignal.any([ac.signal, closing]);
}
