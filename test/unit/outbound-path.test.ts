import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Telegraf } from 'telegraf';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/adapters/http/metrics.ts';
import { createLogger } from '../../src/adapters/logger.ts';
import { classifyTelegramError, SendDeferred } from '../../src/adapters/telegram/errors.ts';
import { INTERACTIVE, isPacedMethod, Outbound, PacedTelegram } from '../../src/adapters/telegram/outbound.ts';

// No Bot API call in src/ bypasses the outbound path (adapters/telegram/outbound.ts): only that file
// builds a telegraf Telegram or calls callApi, only the bot shell builds the Telegraf (with the paced
// context type), and nothing else talks HTTP to a Bot API method URL.

const root = join(import.meta.dirname, '..', '..', 'src');
const EXEMPT_DIRS = ['emulator', 'generated']; // the emulator IS the Bot API server; generated = Prisma

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return EXEMPT_DIRS.includes(relative(root, p)) ? [] : sources(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

interface Rule {
  what: string;
  re: RegExp;
  allowedIn: string[];
}

const RULES: Rule[] = [
  {
    what: 'builds a telegraf Telegram',
    re: /new\s+Telegram\s*[(<]/,
    allowedIn: ['adapters/telegram/outbound.ts'],
  },
  {
    what: 'calls callApi directly',
    re: /\.callApi\s*\(|\bcallApi\s*=/,
    // The poller calls getUpdates on the client it is given (the bot's PacedTelegram, whose callApi IS
    // the outbound path) through callApi, for the abort signal that ends its long poll at shutdown.
    allowedIn: ['adapters/telegram/outbound.ts', 'adapters/telegram/polling.ts'],
  },
  { what: 'builds a Telegraf bot', re: /new\s+Telegraf\s*[(<]/, allowedIn: ['adapters/telegram/bot.ts'] },
  {
    what: 'calls a Bot API method over HTTP',
    re: /(api\.telegram\.org|apiRoot\s*\}?\s*\/bot|\/bot\$\{)/,
    // The doctor asks getMe / getWebhookInfo once, to diagnose the token and the webhook: a read with
    // its own timeout, outside the bot's process, not a message.
    allowedIn: ['config.ts', 'doctor/checks.ts'],
  },
  { what: 'uses telegraf’s raw ApiClient', re: /telegraf\/.*network\/client/, allowedIn: [] },
];

function violations(file: string, text: string): string[] {
  const code = text.replace(/^\s*(\/\/|\*).*$/gm, ''); // comments may name things
  return RULES.filter((r) => r.re.test(code) && !r.allowedIn.includes(file)).map((r) => `${file} ${r.what}`);
}

describe('the outbound path', () => {
  it('no Bot API call in src/ bypasses it', () => {
    const found = sources(root).flatMap((p) => violations(relative(root, p), readFileSync(p, 'utf8')));
    expect(found).toEqual([]);
  });

  it('the check catches a bypass (it can fail)', () => {
    expect(violations('jobs/x.ts', 'const t = new Telegram(token, { apiRoot });')).toHaveLength(1);
    expect(violations('usecases/y.ts', "await telegram.callApi('sendMessage', {});")).toHaveLength(1);
    expect(
      violations('usecases/y.ts', 'await fetch(`$' + '{root}/bot$' + '{token}/sendMessage`)'),
    ).toHaveLength(1);
  });

  it('the bot shell hands every update a paced client', async () => {
    const { createBot } = await import('../../src/adapters/telegram/bot.ts');
    const outbound = new Outbound(undefined, createLogger({ level: 'silent' }), new Metrics());
    const deps = {
      i18n: { t: () => '', resolve: () => 'zh-CN' },
      logger: createLogger({ level: 'silent' }),
      metrics: new Metrics(),
      redis: {},
      queues: { prefix: 'test' },
    };
    const app = createBot(deps as never, () => [], {
      token: '1:abcdefghijk',
      apiRoot: 'http://127.0.0.1:9',
      outbound,
    });
    expect(app.bot.telegram).toBeInstanceOf(PacedTelegram);
    const Ctx = (
      app.bot as unknown as { options: { contextType: new (...a: unknown[]) => { telegram: unknown } } }
    ).options.contextType;
    const ctx = new Ctx(
      { update_id: 1 },
      new (Telegraf as never as { prototype: object } & (new (t: string) => { telegram: unknown }))(
        '1:abcdefghijk',
      ).telegram,
      { id: 1 },
    );
    expect(ctx.telegram).toBeInstanceOf(PacedTelegram);
    expect((ctx.telegram as PacedTelegram).profile).toBe(INTERACTIVE);
  });
});

describe('the one classifier of Bot API failures', () => {
  const api = (error_code: number, description: string, retry_after?: number) => ({
    response: { ok: false, error_code, description, ...(retry_after ? { parameters: { retry_after } } : {}) },
  });
  it.each([
    [api(429, 'Too Many Requests: retry after 3', 3), { kind: 'rate_limited', retryAfterMs: 3000 }],
    [api(403, 'Forbidden: bot was blocked by the user'), { kind: 'blocked' }],
    [api(403, 'Forbidden: user is deactivated'), { kind: 'blocked' }],
    [api(400, 'Bad Request: chat not found'), { kind: 'chat_not_found' }],
    [api(400, 'Bad Request: user not found'), { kind: 'chat_not_found' }],
    [
      api(400, 'Bad Request: message is not modified: specified new message content'),
      { kind: 'not_modified' },
    ],
    [
      api(400, 'Bad Request: query is too old and response timeout expired or query ID is invalid'),
      { kind: 'query_too_old' },
    ],
    [api(400, 'Bad Request: message to edit not found'), { kind: 'message_gone' }],
    [api(400, 'Bad Request: message text is empty'), { kind: 'api_error', code: 400 }],
    [Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), { kind: 'not_sent' }],
    [Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), { kind: 'uncertain' }],
    [new SendDeferred(2500, 'paced'), { kind: 'rate_limited', retryAfterMs: 2500 }],
    [new TypeError('x is undefined'), { kind: 'other' }],
  ])('%#', (err, expected) => {
    expect(classifyTelegramError(err)).toMatchObject(expected);
  });
  it('paces only methods that put something in a chat', () => {
    expect(['sendMessage', 'sendDocument', 'editMessageText', 'copyMessage'].every(isPacedMethod)).toBe(true);
    expect(
      ['answerCallbackQuery', 'getMe', 'getUpdates', 'setMyCommands', 'getFile'].some(isPacedMethod),
    ).toBe(false);
  });
});
