import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BotState } from './bot-state.ts';
import { ApiError, notFound } from './errors.ts';
import { parseParams } from './http-body.ts';
import { clientSignal, sendBytes, sendJson } from './http-util.ts';
import { botMethods } from './methods/bot.ts';
import type { MethodHandler } from './methods/context.ts';
import { fileMethods } from './methods/files.ts';
import { messageMethods } from './methods/messages.ts';
import { Params } from './params.ts';
import type { BotRegistry } from './registry.ts';

const METHODS = new Map<string, [string, MethodHandler]>(
  Object.entries({ ...botMethods, ...messageMethods, ...fileMethods }).map(([name, h]) => [
    name.toLowerCase(),
    [name, h],
  ]),
);

export interface ApiDeps {
  registry: BotRegistry;
  maxUploadSize: number;
  closing: AbortSignal;
  log: (msg: string, data: object) => void;
}

function countError(bot: BotState | undefined, err: ApiError): void {
  if (!bot) return;
  if (err.code === 429) bot.stats.tooManyRequests += 1;
  else if (err.code === 403) bot.stats.forbidden += 1;
  else if (err.code === 400) bot.stats.badRequests += 1;
}

/** Runs one Bot API method for `bot` (also used for methods a webhook answers with). */
export async function callMethod(
  bot: BotState,
  method: string,
  params: Params,
  deps: ApiDeps,
  signal: AbortSignal,
) {
  const entry = METHODS.get(method.toLowerCase());
  if (!entry) throw notFound();
  const [name, handler] = entry;
  bot.stats.callsPerMethod[name] = (bot.stats.callsPerMethod[name] ?? 0) + 1;
  try {
    return await handler({ bot, params, signal, maxUploadSize: deps.maxUploadSize });
  } catch (err) {
    if (err instanceof ApiError) countError(bot, err);
    throw err;
  }
}

/** `POST|GET /bot<token>/<method>` */
export async function handleApi(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  token: string,
  method: string,
  deps: ApiDeps,
): Promise<void> {
  try {
    const bot = deps.registry.byToken(token);
    bot.lastCallAt = Date.now();
    if (!METHODS.has(method.toLowerCase())) throw notFound();
    const params = await parseParams(req, url, deps.maxUploadSize + 1024 * 1024);
    const result = await callMethod(bot, method, params, deps, clientSignal(req, res, deps.closing));
    sendJson(res, 200, { ok: true, result });
  } catch (err) {
    if (err instanceof ApiError) {
      sendJson(res, err.code, err.toJSON());
      return;
    }
    deps.log('emulator method crashed', { method, error: String(err) });
    sendJson(res, 500, { ok: false, error_code: 500, description: 'Internal Server Error' });
  }
}

/** `GET /file/bot<token>/<file_path>` */
export function handleFileDownload(
  res: ServerResponse,
  token: string,
  filePath: string,
  deps: ApiDeps,
): void {
  let bot: BotState;
  try {
    bot = deps.registry.byToken(token);
  } catch {
    sendJson(res, 401, { ok: false, error_code: 401, description: 'Unauthorized' });
    return;
  }
  const file = bot.files.byFilePath(decodeURIComponent(filePath));
  if (!file) {
    sendJson(res, 404, { ok: false, error_code: 404, description: 'Not Found' });
    return;
  }
  sendBytes(res, file.bytes, file.mimeType);
}

export const webhookReplyParams = (payload: Record<string, unknown>): Params => new Params(payload);
