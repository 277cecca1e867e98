import type { IncomingMessage, ServerResponse } from 'node:http';
import { BotControl } from './control.ts';
import { readBody } from './http-body.ts';
import { clientSignal, sendBytes, sendJson } from './http-util.ts';
import type { Notifier } from './notifier.ts';
import type { BotRegistry } from './registry.ts';
import type { Limits, UserProfile } from './types.ts';
import { ControlError } from './users.ts';
import { crossOrigin, sendFile, streamEvents } from './web.ts';

export const CONTROL_PREFIX = '/_emulator';

interface Request {
  method: string;
  parts: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
  control: BotControl;
  signal: AbortSignal;
}

const num = (v: unknown, what: string): number => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new ControlError(400, `invalid ${what}`);
  return n;
};

const profileOf = (v: unknown): UserProfile | undefined =>
  v && typeof v === 'object' ? (v as UserProfile) : undefined;

/** Routes `METHOD /_emulator/<a>/<b>/<c>`; returns undefined for unknown routes. */
async function route(r: Request): Promise<unknown> {
  const [a, b, c] = r.parts;
  const { control, body, query } = r;
  const key = `${r.method} ${a ?? ''}${b !== undefined ? '/:' : ''}${c ?? ''}`;
  switch (key) {
    case 'GET stats':
      return control.stats();
    case 'POST reset-stats':
      control.resetStats();
      return { ok: true };
    case 'GET outbound':
      return control.outbound();
    case 'GET limits':
      return control.getLimits();
    case 'POST limits':
      control.setLimits(body as Partial<Limits>);
      return control.getLimits();
    case 'POST inject429':
      control.inject429(num(body['count'] ?? 1, 'count'), num(body['retryAfter'] ?? 1, 'retryAfter'));
      return { ok: true };
    case 'GET pending':
      return { pending: control.pendingUpdates() };
    case 'GET users':
      return control.users();
    case 'GET webhook-deliveries':
      return control.webhookDeliveries();
    case 'POST updates':
      return control.injectRawUpdate((body['update'] ?? body) as Record<string, unknown>);
    case 'POST updates/:repeat':
      return control.repeatUpdate(num(b, 'update id'));
  }
  const id = num(b, 'chat/user id');
  switch (key) {
    case 'POST users/:':
      control.registerUser(id, profileOf(body['profile']) ?? profileOf(body));
      return { ok: true };
    case 'POST users/:text':
      return control.sendText(id, String(body['text'] ?? ''), profileOf(body['profile']));
    case 'POST users/:document':
      return control.sendDocument(
        id,
        {
          fileName: String(body['fileName'] ?? 'file.bin'),
          bytes: Buffer.from(String(body['base64'] ?? ''), 'base64'),
          ...(typeof body['mimeType'] === 'string' ? { mimeType: body['mimeType'] } : {}),
          ...(typeof body['caption'] === 'string' ? { caption: body['caption'] } : {}),
        },
        profileOf(body['profile']),
      );
    case 'POST users/:press':
      return control.pressButton(id, num(body['messageId'], 'messageId'), String(body['data'] ?? ''));
    case 'GET chats/:messages':
      return control.messages(id);
    case 'GET chats/:history':
      return control.history(id);
    case 'GET chats/:transcript':
      return control.transcript(id);
    case 'GET chats/:callback-answers':
      return control.callbackAnswers(id);
    case 'GET chats/:commands':
      return control.myCommands(id, query.get('lang') ?? undefined);
    case 'GET chats/:changes':
      return control.changes(
        id,
        num(query.get('since') ?? 0, 'since'),
        Math.min(60_000, num(query.get('timeout') ?? 0, 'timeout')),
        r.signal,
        query.get('edits') === 'latest',
      );
    case 'POST chats/:block':
      control.blockChat(id);
      return { ok: true };
    case 'POST chats/:unblock':
      control.unblockChat(id);
      return { ok: true };
  }
  return undefined;
}

export async function handleControl(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  registry: BotRegistry,
  notifier: Notifier,
  closing: AbortSignal,
): Promise<void> {
  try {
    const parts = url.pathname.slice(CONTROL_PREFIX.length).split('/').filter(Boolean);
    if (parts[0] === 'health') {
      sendJson(res, 200, { ok: true, bots: registry.all().map((b) => b.summary()) });
      return;
    }
    // Another site's page in the same browser must not act as the sandbox's users (no CORS here).
    if (req.method === 'POST' && crossOrigin(req))
      throw new ControlError(403, 'cross-origin control requests are refused');
    const selector = url.searchParams.get('bot') ?? undefined;
    const selected = registry.select(selector);
    if (!selected) throw new ControlError(404, `unknown bot ${selector}`);
    if (req.method === 'GET' && parts[0] === 'events') {
      streamEvents(req, res, () => registry.select(selector) ?? selected, notifier, closing);
      return;
    }
    if (req.method === 'GET' && parts[0] === 'files' && parts[1]) {
      const control = new BotControl(() => registry.select(selector) ?? selected, notifier);
      sendFile(res, control.file(decodeURIComponent(parts[1])), url.searchParams.has('download'));
      return;
    }
    const raw = req.method === 'POST' ? await readBody(req, 80 * 1024 * 1024) : Buffer.alloc(0);
    const body = raw.length ? (JSON.parse(raw.toString('utf8')) as Record<string, unknown>) : {};
    const control = new BotControl(() => registry.select(selector) ?? selected, notifier);
    const signal = clientSignal(req, res, closing);
    const result = await route({
      method: req.method ?? 'GET',
      parts,
      query: url.searchParams,
      body,
      control,
      signal,
    });
    if (result === undefined)
      throw new ControlError(404, `unknown control route ${req.method} ${url.pathname}`);
    if (Buffer.isBuffer(result)) sendBytes(res, result);
    else sendJson(res, 200, result);
  } catch (err) {
    const status = err instanceof ControlError ? err.status : err instanceof SyntaxError ? 400 : 500;
    sendJson(res, status, { error: err instanceof Error ? err.message : String(err) });
  }
}
