import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { BUNDLED_CHART_FONT } from '../adapters/files/chart-font.ts';
import { packageRoot } from '../adapters/package-root.ts';
import type { BotState } from './bot-state.ts';
import { sendJson } from './http-util.ts';
import type { Notifier } from './notifier.ts';

// The sandbox's web page (src/emulator/web/*: plain HTML, CSS and one JS module, no build step) and
// what it needs beyond the control API: live change events (server-sent events) and files with their
// type. The page only calls `/_emulator/...` routes, like the terminal chat does.

/** A person the page shows a chat pane for at first. */
export interface WebPerson {
  id: number;
  name: string;
  /** Key of a role label in the page's strings (e.g. `role_admin`), shown under the name. */
  role?: string;
  /** Telegram language_code the person's messages carry (default `zh-hans`). */
  languageCode?: string;
}

export interface WebPageOptions {
  /** The page's own texts per language (`zh-CN`, `en`): the locales' `sandbox_web` section. */
  strings: Record<string, Record<string, string>>;
  people?: WebPerson[];
  defaultLanguage?: string;
}

// From the package root (not this file's URL), so the page is found from a dist/ build too.
const WEB_DIR = join(packageRoot, 'src', 'emulator', 'web');
const ASSETS: Record<string, [file: string, type: string]> = {
  '/': [join(WEB_DIR, 'index.html'), 'text/html; charset=utf-8'],
  '/web/app.js': [join(WEB_DIR, 'app.js'), 'text/javascript; charset=utf-8'],
  '/web/render.js': [join(WEB_DIR, 'render.js'), 'text/javascript; charset=utf-8'],
  '/web/style.css': [join(WEB_DIR, 'style.css'), 'text/css; charset=utf-8'],
  // The chart's shipped Chinese font: the page reads in Chinese on a machine with no CJK font.
  '/web/font.otf': [BUNDLED_CHART_FONT, 'font/otf'],
};

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; font-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-cache',
};

/** Serves the page's files and its configuration; false when `path` is not one of them. */
export async function handleWeb(res: ServerResponse, path: string, opts: WebPageOptions): Promise<boolean> {
  if (path === '/web/config.json') {
    sendJson(res, 200, {
      strings: opts.strings,
      people: opts.people ?? [],
      defaultLanguage: opts.defaultLanguage ?? 'zh-CN',
    });
    return true;
  }
  const asset = ASSETS[path === '/index.html' ? '/' : path];
  if (!asset) return false;
  const body = await readFile(asset[0]);
  res.writeHead(200, { 'content-type': asset[1], 'content-length': body.length, ...SECURITY_HEADERS });
  res.end(body);
  return true;
}

/** True when a browser request comes from another site (its Origin names another host). */
export function crossOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return false;
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

function sniffType(bytes: Buffer): string | undefined {
  if (bytes.length > 8 && bytes.readUInt32BE(0) === 0x89504e47) return 'image/png';
  if (bytes.length > 3 && bytes[0] === 0xff && bytes[1] === 0xd8) return 'image/jpeg';
  return undefined;
}

/** A stored file with its type; `download` adds Content-Disposition with the file's name. */
export function sendFile(
  res: ServerResponse,
  file: { bytes: Buffer; fileName?: string; mimeType?: string },
  download: boolean,
): void {
  const given = file.mimeType && file.mimeType !== 'application/octet-stream' ? file.mimeType : undefined;
  const type = given ?? sniffType(file.bytes) ?? 'application/octet-stream';
  const name = file.fileName ?? 'file';
  res.writeHead(200, {
    'content-type': type,
    'content-length': file.bytes.length,
    'x-content-type-options': 'nosniff',
    // File ids never change content: the page's images need not be fetched twice.
    'cache-control': 'private, max-age=86400, immutable',
    ...(download
      ? {
          'content-disposition': `attachment; filename="${name.replace(/[^\x20-\x7e]|["\\]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`,
        }
      : {}),
  });
  res.end(file.bytes);
}

/**
 * `GET /_emulator/events`: server-sent events for the selected bot. `chat` (data: {"chatId":…}) when
 * a chat changed (a message sent, edited or deleted by either side, a button answered); `commands`
 * when command menus changed; `reset` when everything should be reloaded (e.g. the bot connected).
 */
export function streamEvents(
  req: IncomingMessage,
  res: ServerResponse,
  bot: () => BotState,
  notifier: Notifier,
  closing: AbortSignal,
): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 1000\n\n');
  const send = (event: string, data: unknown): void => {
    if (!res.writableEnded) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  };
  const unsubscribe = notifier.subscribe((key) => {
    const id = bot().id;
    if (key === '*') send('reset', {});
    else if (key === `commands:${id}`) send('commands', {});
    else if (key.startsWith(`chat:${id}:`)) send('chat', { chatId: Number(key.slice(`chat:${id}:`.length)) });
  });
  const heartbeat = setInterval(() => res.write(': ping\n\n'), 15_000);
  const stop = (): void => {
    clearInterval(heartbeat);
    unsubscribe();
    closing.removeEventListener('abort', end);
  };
  const end = (): void => {
    stop();
    res.end();
  };
  closing.addEventListener('abort', end, { once: true });
  req.on('close', stop);
  res.on('close', stop);
}
