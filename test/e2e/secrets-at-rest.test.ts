import { existsSync, statSync, watch } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportDir } from '../../src/adapters/files/export-parts.ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRecipientLink } from '../../src/usecases/recipients/links.ts';
import { makeId, seedCampaign, seedContact } from '../support/fixtures.ts';
import { startHarness, type Harness } from '../support/harness.ts';

// Finding 11 (issue 12), as the attack of someone who can read Redis or the server's temp directory:
// sessions must hold no invite code and no rcp_ token (the database keeps only their hashes); every
// Redis key of the installation carries QUEUE_PREFIX; an export never puts the ledger on disk.

const ADMIN = 987_650_001;
const NEWCOMER = 987_650_002;
const RECIPIENT = 987_650_003;
const FINANCE = 987_650_004;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ admins: [ADMIN] });
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

async function keysMatching(pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await h.app.redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    out.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return out;
}

describe('secrets at rest', () => {
  it('sessions keep ids only: no invite code, no rcp_ token; every key under QUEUE_PREFIX', async () => {
    const db = h.app.db;
    const admin = h.emu.user(ADMIN, { firstName: '管理员', languageCode: 'zh-hans' });
    await admin.send('/union_add 会话测试工会');
    await admin.expectReply(/确认新增/);
    await admin.press('确认新增');
    await admin.expectEdit(/已新增基层工会/);
    const union = await db.union.findFirstOrThrow({ where: { name: '会话测试工会' } });
    await admin.send(`/invite ${union.id} 1`);
    const inv = /start=inv_([A-Za-z0-9_-]+)/.exec((await admin.expectReply(/start=inv_/)).text ?? '')![1]!;

    const newcomer = h.emu.user(NEWCOMER, { firstName: '新联系人', languageCode: 'zh-hans' });
    await newcomer.command('/start', `inv_${inv}`);
    await newcomer.expectReply(/确认加入吗/);

    const campaign = await seedCampaign(db, {
      code: 'secrets',
      categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 1000 }],
    });
    const contact = await seedContact(db, 987_650_009, '会话测试工会');
    const id = makeId('19800101', 9);
    const n = await db.nomination.create({
      data: {
        campaignId: campaign.id,
        categoryId: campaign.categories[0]!.id,
        unionId: contact.union.id,
        submittedById: contact.person.id,
        status: 'approved',
        benefitForm: 'in_kind',
        amountFen: campaign.categories[0]!.standardAmountFen,
        idNumberEnc: h.app.cipher.encrypt(id),
        idNumberHash: h.app.cipher.hash('id', id),
      },
    });
    const link = await createRecipientLink(
      { db, cipher: h.app.cipher, now: () => new Date() },
      { nominationId: n.id, actorId: contact.person.id },
    );
    const recipient = h.emu.user(RECIPIENT, { firstName: '本人', languageCode: 'zh-hans' });
    await recipient.command('/start', link.payload);
    await recipient.expectReply(/最后 6 位/);

    // A finance upload waiting for its file also leaves a key.
    const fin = await db.person.create({ data: { telegramId: BigInt(FINANCE), displayName: '财务' } });
    await db.roleGrant.create({ data: { personId: fin.id, role: 'finance', scope: '' } });
    const finance = h.emu.user(FINANCE, { firstName: '财务', languageCode: 'zh-hans' });
    await finance.send('/handover_sheet');
    await finance.expectReply(/实物发放清单/);

    const prefix = `${h.app.queues.prefix}:`;
    const botId = h.env['TELEGRAM_BOT_TOKEN']!.split(':')[0];
    const patterns = [`*${NEWCOMER}*`, `*${RECIPIENT}*`, `*:file:${fin.id}`, `*:upd:${botId}:*`];
    // (Earlier runs of this file left keys under their own test prefixes; only ours are judged.)
    const found = (await Promise.all(patterns.map(keysMatching))).map((keys) =>
      keys.filter((k) => !/^\{?test-[0-9a-f]{8}\}?:/.test(k) || k.startsWith(prefix)),
    );
    // Sessions of both people, the pending upload, the update de-duplication keys: all under the prefix.
    expect(found.map((k) => k.length > 0)).toEqual([true, true, true, true]);
    const all = found.flat();
    expect(all.filter((k) => !k.startsWith(prefix))).toEqual([]);
    const values = await Promise.all(
      all.map(async (k) => ((await h.app.redis.type(k)) === 'string' ? h.app.redis.get(k) : '')),
    );
    const dump = values.join('\n');
    expect(dump).not.toContain(inv);
    expect(dump).not.toContain(link.token);
    expect(dump).toMatch(/"inviteId":\d+/);
    expect(dump).toMatch(/"linkId":\d+/);

    // The flows still work from the ids.
    await newcomer.press('确认加入');
    await newcomer.expectEdit(/已加入“会话测试工会”/);
    await recipient.send(id.slice(-6));
    await recipient.expectReply(/核验成功/);
  });

  it('an export leaves no copy of the ledger behind: its part files (0600, in a 0700 folder) are removed once sent', async () => {
    // Exports run as staff jobs and write their parts to exportDir() while they are sent (a retried
    // upload needs the file again). Nothing else of a ledger may appear in the temp directory.
    const dir = exportDir();
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const seen: string[] = [];
    const modes = new Map<string, number>();
    const others: string[] = [];
    const top = watch(tmpdir(), (_e, name) => {
      if (name && /^warmth-/.test(String(name)) && !/^warmth-(drift|migrations|exports)/.test(String(name)))
        others.push(String(name));
    });
    const exports = watch(dir, (_e, name) => {
      if (!name) return;
      seen.push(String(name));
      try {
        modes.set(String(name), statSync(join(dir, String(name))).mode & 0o777);
      } catch {}
    });
    try {
      const admin = h.emu.user(ADMIN, { firstName: '管理员', languageCode: 'zh-hans' });
      await admin.send('/export secrets');
      const doc = await admin.expectDocument(/台账/);
      expect((await admin.download(doc)).subarray(0, 2).toString('latin1')).toBe('PK');
      await admin.send('/entry_list secrets');
      await admin.expectReply();
      for (
        let i = 0;
        i < 100 && (await h.app.db.staffJob.count({ where: { activeKey: { not: null } } })) > 0;
        i++
      )
        await new Promise((r) => setTimeout(r, 100));
    } finally {
      top.close();
      exports.close();
    }
    expect(others).toEqual([]);
    const mine = [...new Set(seen)].filter((n) => n.startsWith(`${process.pid}-`));
    expect(mine.length).toBeGreaterThan(0);
    for (const name of mine) expect(existsSync(join(dir, name)), name).toBe(false);
    for (const [name, mode] of modes) if (name.startsWith(`${process.pid}-`)) expect(mode).toBe(0o600);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});
