import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import {
  BackupError,
  backupDatabase,
  missingKeys,
  restoreDatabase,
} from '../../src/adapters/db/tooling/backup.ts';
import { dropDatabase, withClient, withDatabase } from '../../src/adapters/db/tooling/pg.ts';
import { createLogger } from '../../src/adapters/logger.ts';
import { Queues } from '../../src/adapters/queue/queues.ts';
import { startApp, type RunningApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import type { PrismaClient } from '../../src/generated/prisma/client.ts';
import { enqueueNotice } from '../../src/usecases/notices.ts';
import { syncReminders } from '../../src/usecases/reminders.ts';
import { startTestEmulator, type TestEmulator } from '../support/conversation.ts';
import {
  adminUrl,
  createPrisma,
  createTestDatabase,
  TEST_DB_PREFIX,
  type TestDatabase,
} from '../support/db.ts';
import { REDIS_URL } from '../support/harness.ts';
import * as fx from '../support/reminder-fixtures.ts';

// The restore drill (README, Runbook): a campaign mid-flight (notices queued but not sent, reminders
// scheduled, one of each already sent) is backed up with pg_dump, restored into a NEW database, Redis
// loses everything of the installation (this test's queue prefix only: other tests share the server),
// and the worker started on the restored database brings back every due reminder and unsent notice,
// each delivered exactly once (counted per chat by the emulator, limits on), and nothing already sent.

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let offsetMs = 0;
const clock = () => new Date(Date.now() + offsetMs);

let emu: TestEmulator;
let tdb: TestDatabase;
let db: PrismaClient;
let dir: string;
const restoredName = `${TEST_DB_PREFIX}${process.pid}_restored_${randomBytes(4).toString('hex')}`;
const restoredUrl = withDatabase(adminUrl, restoredName);
const prefix = `test-drill-${randomBytes(4).toString('hex')}`;
const dataKey = randomBytes(32).toString('base64');
const redis = new Redis(REDIS_URL);

/** Deletes the keys of one installation (its prefix, random per test; `{prefix}` hash tags included). */
async function deletePrefix(p: string): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${p}*`, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) n += await redis.del(...keys);
  } while (cursor !== '0');
  return n;
}

beforeAll(async () => {
  offsetMs = fx.sh('2026-03-03 10:00').getTime() - Date.now();
  emu = await startTestEmulator();
  tdb = await createTestDatabase();
  db = createPrisma(tdb.url);
  dir = mkdtempSync(join(tmpdir(), 'warmth-drill-'));
});
afterAll(async () => {
  await db?.$disconnect();
  await tdb?.drop();
  await withClient(adminUrl, (c) => dropDatabase(c, restoredName));
  await deletePrefix(prefix);
  redis.disconnect();
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('restore drill', () => {
  it('backup mid-campaign, restore into a new database, Redis emptied: every due reminder and unsent notice arrives exactly once', async () => {
    // ---- the installation before the disaster: queues under `prefix`, nothing consuming them
    const queues = new Queues(REDIS_URL, prefix);
    const cipher = new FieldCipher([{ version: 1, key: Buffer.from(dataKey, 'base64') }]);
    const fed = await fx.federation(db);
    const contacts: { tg: number; personId: number }[] = [];
    for (let i = 0; i < 4; i++) {
      const unionId = await fx.union(db, fed, `第${i + 1}工会`);
      const tg = 8801 + i;
      contacts.push({ tg, personId: await fx.person(db, tg, 'contact', { unionId }) });
    }
    // Closing in 2 h + 3 s: the "2 hours left" reminder of each contact is due 3 s from now.
    const campaignId = await fx.campaign(db, fed, {
      code: 'drill-2026',
      opens: fx.sh('2026-02-24 09:00'),
      closes: new Date(clock().getTime() + 2 * 3_600_000 + 3_000),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
      settings: { reminders: { beforeClose: [{ spec: '2h', amount: 2, unit: 'hour' }] } },
    });
    // One draft with an encrypted phone: the manifest names key version 1 as needed.
    await db.nomination.create({
      data: {
        campaignId,
        unionId: (await db.union.findFirstOrThrow({ orderBy: { id: 'asc' } })).id,
        submittedById: contacts[0]!.personId,
        status: 'draft',
        phoneEnc: cipher.encrypt('13812345678'),
      },
    });
    const sync = await syncReminders(db, queues, { campaignId, now: clock() });
    expect(sync.created).toBe(4);
    // The last contact's reminder was already sent before the backup: it must not come back.
    const sentReminder = `rem-${campaignId}-close-${contacts[3]!.personId}-2h`;
    await db.reminder.update({ where: { key: sentReminder }, data: { status: 'sent', sentAt: clock() } });

    const recipients: { tg: number; personId: number }[] = [];
    for (let i = 0; i < 6; i++) {
      const tg = 8901 + i;
      recipients.push({ tg, personId: await fx.person(db, tg, null) });
      await enqueueNotice(db, queues, {
        uniqueKey: `drill-${tg}`,
        kind: 'decision',
        personId: recipients[i]!.personId,
        template: 'dialog.cancelled',
      });
    }
    // The last recipient's notice was sent before the backup.
    await db.notice.update({
      where: { uniqueKey: `drill-${recipients[5]!.tg}` },
      data: { status: 'sent', sentAt: clock() },
    });
    for (const p of [...contacts, ...recipients]) emu.emulator.registerUser(p.tg, { firstName: `u${p.tg}` });

    // ---- backup: a dump and a manifest with the key versions, never the key
    const backup = await backupDatabase({ databaseUrl: tdb.url, dir, keys: { current: 1, hash: 1 } });
    const manifestText = readFileSync(backup.manifestFile, 'utf8');
    expect(manifestText).not.toContain(dataKey);
    expect(backup.manifest.keys).toEqual({ current: 1, hash: 1, inData: { '1': 1 } });
    expect(missingKeys(backup.manifest, [1])).toEqual([]);
    expect(missingKeys(backup.manifest, [2])).toEqual(['1']);

    // ---- the disaster: Redis loses the installation's keys; the backup goes to a NEW database
    await queues.close();
    const restoredInto = restoreDatabase({ databaseUrl: tdb.url, file: backup.file });
    await expect(restoredInto).rejects.toThrow(BackupError);
    await expect(restoredInto).rejects.toThrow(/not empty/);
    const restored = await restoreDatabase({ databaseUrl: restoredUrl, file: backup.file });
    expect(restored.migrations).toEqual(backup.manifest.migrations);
    expect(await deletePrefix(prefix)).toBeGreaterThan(0);
    expect(await redis.keys(`*${prefix}*`)).toEqual([]);
    while (Date.now() < fx.sh('2026-03-03 10:00').getTime() - offsetMs + 3_500) await sleep(100);

    // ---- the worker on the restored database rebuilds everything from PostgreSQL
    const logs: string[] = [];
    const env = {
      TELEGRAM_BOT_TOKEN: `${100000 + Math.floor(Math.random() * 900000)}:DRILL${randomBytes(10).toString('hex')}`,
      TELEGRAM_API_ROOT: emu.apiRoot,
      DATABASE_URL: restoredUrl,
      REDIS_URL,
      DATA_KEY: dataKey,
      SMS_PROVIDER: 'log',
      PORT: '0',
      LOG_LEVEL: 'info',
    };
    const startWorker = () =>
      startApp({
        config: loadConfig(env),
        role: 'worker',
        apiRoot: emu.apiRoot,
        queuePrefix: prefix,
        now: clock,
        logger: createLogger({
          level: 'info',
          destination: new Writable({
            write(chunk, _e, cb) {
              logs.push(String(chunk));
              cb();
            },
          }),
        }),
      });
    let app: RunningApp = await startWorker();
    try {
      const rdb = app.db;
      const expectedChats = [...contacts.slice(0, 3), ...recipients.slice(0, 5)].map((p) => p.tg);
      const until = Date.now() + 30_000;
      for (;;) {
        // The campaign is open, so the worker also tells every active contact it is (issue 16: one
        // opening notice per contact and campaign, created at its first start): counted apart.
        const [notices, reminders, openings] = await Promise.all([
          rdb.notice.count({ where: { status: 'sent', kind: { not: 'campaign_opened' } } }),
          rdb.reminder.count({ where: { status: 'sent' } }),
          rdb.notice.count({ where: { status: 'sent', kind: 'campaign_opened' } }),
        ]);
        if (notices === 6 && reminders === 4 && openings === contacts.length) break;
        if (Date.now() > until)
          throw new Error(`not restored: ${notices} notices, ${reminders} reminders sent\n${logs.join('')}`);
        await sleep(100);
      }
      await sleep(1_500);
      // A second start (Redis now has the jobs again, done) adds nothing.
      await app.stop();
      app = await startWorker();
      await sleep(2_000);

      const sends = emu.emulator.outbound().filter((o) => o.method === 'sendMessage');
      const perChat = new Map<number, number>();
      for (const o of sends) perChat.set(o.chatId, (perChat.get(o.chatId) ?? 0) + 1);
      const expected = new Map<number, number>(expectedChats.map((tg) => [tg, 1]));
      for (const c of contacts) expected.set(c.tg, (expected.get(c.tg) ?? 0) + 1); // the opening notice
      expect(Object.fromEntries(perChat)).toEqual(Object.fromEntries(expected));
      // Redis was emptied: all five unsent notices had lost their jobs.
      expect(logs.join('')).toMatch(
        /"queued":5,"retried":0,"missing":5,"msg":"queued notices re-queued at worker start"/,
      );
    } finally {
      await app.stop();
    }
  });
});
