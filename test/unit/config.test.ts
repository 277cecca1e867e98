import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SANDBOX_TOKEN } from '../../src/config.ts';

const KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 73 + 41) % 256)).toString('base64');
const production = {
  TELEGRAM_BOT_TOKEN: '123456789:AAbbCCddEEffGGhhIIjjKK',
  DATABASE_URL: 'postgresql://u@db:5432/warmth',
  REDIS_URL: 'redis://redis:6379/0',
  DATA_KEY: KEY,
  SMS_PROVIDER: 'http',
  SMS_HTTP_URL: 'https://sms.example.org/send',
};

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('runs as a sandbox with local defaults when no token is given', () => {
    const c = loadConfig({});
    expect(c.sandbox).toBe(true);
    expect(c.telegram.token).toBe(SANDBOX_TOKEN);
    expect(c.telegram.apiRoot).toBeUndefined();
    expect(c.defaultLocale).toBe('zh-CN');
    expect(c.timeZone).toBe('Asia/Shanghai');
    expect(c.dataKeys).toHaveLength(1);
  });

  it('needs database, redis and key once a real token is set, and lists every problem at once', () => {
    const p = problems({ TELEGRAM_BOT_TOKEN: production.TELEGRAM_BOT_TOKEN });
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^DATABASE_URL: required/),
        expect.stringMatching(/^REDIS_URL: required/),
        expect.stringMatching(/^DATA_KEY: required/),
      ]),
    );
    const c = loadConfig(production);
    expect(c.sandbox).toBe(false);
    expect(c.telegram.apiRoot).toBe('https://api.telegram.org');
  });

  it('reports each invalid value with its name', () => {
    const p = problems({
      ...production,
      TELEGRAM_BOT_TOKEN: 'not-a-token',
      BOT_MODE: 'push',
      PORT: 'eighty',
      DATA_KEY: 'short',
      DEFAULT_LOCALE: 'fr',
      BOOTSTRAP_ADMIN_IDS: '12,abc',
      REDIS_URL: 'http://x',
    });
    for (const name of [
      'TELEGRAM_BOT_TOKEN',
      'BOT_MODE',
      'PORT',
      'DATA_KEY',
      'DEFAULT_LOCALE',
      'BOOTSTRAP_ADMIN_IDS',
      'REDIS_URL',
    ]) {
      expect(
        p.some((x) => x.startsWith(`${name}:`)),
        name,
      ).toBe(true);
    }
    expect(p.join('\n')).not.toContain(production.TELEGRAM_BOT_TOKEN);
  });

  it('webhook mode requires URL and secret', () => {
    const p = problems({ ...production, BOT_MODE: 'webhook' });
    expect(p).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^WEBHOOK_URL/),
        expect.stringMatching(/^WEBHOOK_SECRET/),
      ]),
    );
    const c = loadConfig({
      ...production,
      BOT_MODE: 'webhook',
      WEBHOOK_URL: 'https://bot.example.org/tg',
      WEBHOOK_SECRET: 'a'.repeat(32),
    });
    expect(c.telegram.mode).toBe('webhook');
  });

  it('parses admin ids and versioned data keys', () => {
    const key2 = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 31 + 7) % 256)).toString('base64');
    const c = loadConfig({
      ...production,
      BOOTSTRAP_ADMIN_IDS: ' 1001, 1002 ',
      DATA_KEY: `2:${key2},1:${KEY}`,
    });
    expect(c.bootstrapAdminIds).toEqual([1001n, 1002n]);
    expect(c.dataKeys.map((k) => k.version)).toEqual([2, 1]);
    expect(problems({ ...production, DATA_KEY: `1:${key2},1:${KEY}` })).toEqual([
      expect.stringMatching(/unique/),
    ]);
  });

  it('the process exits with code 2 and one message listing the problems', async () => {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'bot'], {
      env: { PATH: process.env['PATH'], TELEGRAM_BOT_TOKEN: 'bad', PORT: 'x' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/Invalid configuration:[\s\S]*TELEGRAM_BOT_TOKEN[\s\S]*PORT/);
  });

  it('production refuses the public sandbox key, an all-zero key and other non-random keys', () => {
    const sandboxKey = Buffer.alloc(32, 7).toString('base64');
    for (const weak of [
      sandboxKey,
      Buffer.alloc(32, 0).toString('base64'),
      Buffer.from('0123456789abcdef0123456789abcdef').toString('base64'),
      `2:${KEY},1:${sandboxKey}`,
    ]) {
      expect(problems({ ...production, DATA_KEY: weak })).toEqual([
        expect.stringMatching(/^DATA_KEY: key version \d+ (is a published key|is not random)/),
      ]);
    }
    expect(problems(production)).toEqual([]);
    // The sandbox keeps its fixed key (sandbox data only).
    expect(loadConfig({}).dataKeys[0]!.key.equals(Buffer.from(sandboxKey, 'base64'))).toBe(true);
  });

  it('production must name its SMS provider; the sandbox defaults to log', () => {
    const { SMS_PROVIDER: _p, SMS_HTTP_URL: _u, ...rest } = production;
    expect(problems(rest)).toEqual([expect.stringMatching(/^SMS_PROVIDER: required/)]);
    expect(loadConfig({ ...rest, SMS_PROVIDER: 'log' }).sms.provider).toBe('log');
    expect(loadConfig({}).sms.provider).toBe('log');
  });

  it('DATA_HASH_KEY_VERSION must name a configured key', () => {
    const other = Buffer.from(Array.from({ length: 32 }, (_, i) => (i * 31 + 7) % 256)).toString('base64');
    expect(
      loadConfig({ ...production, DATA_KEY: `2:${other},1:${KEY}`, DATA_HASH_KEY_VERSION: '2' })
        .hashKeyVersion,
    ).toBe(2);
    expect(problems({ ...production, DATA_HASH_KEY_VERSION: '3' })).toEqual([
      expect.stringMatching(/^DATA_HASH_KEY_VERSION: must be the version/),
    ]);
  });
});
