import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logger.ts';
import { type RunningApp, startApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { startTestEmulator } from '../support/conversation.ts';
import { seedCampaign } from '../support/fixtures.ts';
import { freePort, type Harness, startHarness } from '../support/harness.ts';
import { postUpdate, textUpdate } from '../support/webhook.ts';

// Two webhook bot processes (in-process instances of the real app, each with its own connections and
// its own read cache) on one Redis and one PostgreSQL, emulator limits on (the default). A grant and a
// revoke made by direct SQL (as the admin CLI and fixtures make them) are seen by the very next update
// of both processes, whichever receives it (README "Caches and invalidation").

let h: Harness;
let botB: RunningApp;
let urlA: string;
let urlB: string;
const db = () => h.app.db as unknown as PrismaClient;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  h = await startHarness({ emulator: await startTestEmulator(), mode: 'webhook', role: 'bot' });
  urlA = h.env['WEBHOOK_URL']!;
  const portB = await freePort();
  urlB = `http://127.0.0.1:${portB}/telegram/hook`;
  botB = await startApp({
    config: loadConfig({ ...h.env, PORT: String(portB), WEBHOOK_URL: urlB }),
    role: 'bot',
    apiRoot: h.emu.apiRoot,
    logger: createLogger({ level: 'warn' }),
    queuePrefix: h.app.queues.prefix,
  });
}, 60_000);
afterAll(async () => {
  await botB?.stop();
  await h?.emu.close();
  await h?.stop();
});

describe('two bot processes see grant changes at once', () => {
  it('a grant and a revoke by direct SQL change the very next answer of both processes', async () => {
    await seedCampaign(db(), {
      code: 'rc',
      categories: [
        { code: 'f', kind: 'frontline_worker', nameZh: '一线职工', amountYuan: 150, forms: ['in_kind'] },
      ],
    });
    const ID = 886_001;
    const u = h.emu.user(ID, { firstName: '缓存审核', languageCode: 'zh-hans' });
    await u.handle.register();
    const say = async (url: string, text: string) => {
      const before = (await u.messages()).length;
      const r = await postUpdate(url, h.env['WEBHOOK_SECRET']!, textUpdate(ID, '缓存审核', text));
      expect(r.status).toBe(200);
      for (let i = 0; (await u.messages()).length <= before; i++) {
        expect(i).toBeLessThan(200);
        await sleep(50);
      }
      const all = await u.messages();
      return (all[all.length - 1] as { text?: string }).text ?? '';
    };
    const granted = /没有符合条件的待审核申报|待审核申报共/;
    const forbidden = /您没有办理此项业务的权限/;

    // Both processes have answered this person once (the person exists, each cache is warm).
    for (const url of [urlA, urlB]) expect(await say(url, '/queue campaign=rc')).toMatch(forbidden);
    const [p] = await db().$queryRawUnsafe<{ id: number }[]>(
      `SELECT id FROM person WHERE telegram_id = ${ID}`,
    );

    await db().$executeRawUnsafe(
      `INSERT INTO role_grant (person_id, role, scope) VALUES (${p!.id}, 'reviewer', '')`,
    );
    expect(await say(urlA, '/queue campaign=rc')).toMatch(granted);
    expect(await say(urlB, '/queue campaign=rc')).toMatch(granted);

    await db().$executeRawUnsafe(
      `UPDATE role_grant SET revoked_at = now() WHERE person_id = ${p!.id} AND role = 'reviewer'`,
    );
    expect(await say(urlB, '/queue campaign=rc')).toMatch(forbidden);
    expect(await say(urlA, '/queue campaign=rc')).toMatch(forbidden);
  });
});
