import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCampaign, seedContact } from '../support/fixtures.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { type HostileFile, heavySheet, hostileCorpus } from '../fixtures/hostile/generate.ts';

// Finding 3 (issue 12): a small spreadsheet must not block or kill the bot. The hostile corpus is sent
// to every finance upload path (bank return file, handover sheet, returned entry list); the zip bomb is
// sent while another user asks for /help. Webhook mode, because there updates of different chats are
// handled concurrently as Telegram delivers them (in polling mode telegraf awaits a whole getUpdates
// batch; per-chat ordering is the limits issue's work).

const ADMIN = 9901;
const CONTACT = 9904;
const FINANCE = 9902;
const OTHER = 9903;
let h: Harness;
let corpus: HostileFile[];
let batchCode: string;
let batchId: number;

beforeAll(async () => {
  h = await startHarness({ mode: 'webhook', admins: [ADMIN] });
  corpus = await hostileCorpus();
  const db = h.app.db;
  const c = await seedCampaign(db, {
    code: 'hostile',
    categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 1000 }],
  });
  await seedContact(db, CONTACT, '恶意文件测试工会', '联系人');
  const fin = await db.person.create({ data: { telegramId: BigInt(FINANCE), displayName: '财务' } });
  await db.roleGrant.create({ data: { personId: fin.id, role: 'finance', scope: '' } });
  const b = await db.paymentBatch.create({
    data: { campaignId: c.id, code: 'PB-HOSTILE', createdById: fin.id },
  });
  batchCode = b.code;
  batchId = b.id;
}, 60_000);
afterAll(async () => {
  await h?.stop();
});

const REFUSED = /已拒收|已停止处理|无法读取该文件|请发送 \.xlsx 或 \.csv 文件|找不到表头/;

describe('hostile spreadsheets on every finance upload path', () => {
  it('the bomb is refused while another user gets /help, and the bot lives on', async () => {
    const fin = h.emu.user(FINANCE, { firstName: '财务', languageCode: 'zh-hans' });
    const other = h.emu.user(OTHER, { firstName: '路人', languageCode: 'zh-hans' });
    // The reported bomb (2 MB → 500 MB) and the same with lying headers: refused, nothing inflated.
    for (const name of ['bomb.xlsx', 'lying-sizes.xlsx']) {
      await fin.send(`/batch_return ${batchId}`);
      await fin.expectReply(new RegExp(batchCode));
      await fin.upload({ fileName: '回单.xlsx', bytes: corpus.find((f) => f.name === name)!.bytes });
      await fin.expectReply(/已拒收/);
    }
    // A workbook inside every limit that is slow to parse: while it is parsed (in the parser child process), another
    // user's /help is answered.
    await fin.send(`/batch_return ${batchId}`);
    await fin.expectReply(new RegExp(batchCode));
    await fin.upload({ fileName: '回单.xlsx', bytes: (await heavySheet(50_000)).bytes });
    await other.send('/help');
    const help = await other.expectReply(/可用命令|还没有任何身份/);
    const answer = await fin.expectReply(/找不到表头|已停止处理/, { timeoutMs: 60_000 });
    expect(help.sentAt).toBeLessThan(answer.sentAt);
    // Alive and answering; the bot's heap never held the inflated sheets.
    await other.send('/help');
    await other.expectReply(/可用命令|还没有任何身份/);
    expect(process.memoryUsage().heapUsed).toBeLessThan(1024 * 1024 * 1024);
  }, 120_000);

  it('every hostile file on the return, handover and entry-list paths gets a clear refusal', async () => {
    const fin = h.emu.user(FINANCE, { firstName: '财务', languageCode: 'zh-hans' });
    const admin = h.emu.user(ADMIN, { firstName: '管理员', languageCode: 'zh-hans' });
    for (const f of corpus) {
      await fin.send(`/batch_return ${batchId}`);
      await fin.expectReply(new RegExp(batchCode));
      await fin.upload({ fileName: f.name, bytes: f.bytes });
      await fin.expectReply(REFUSED);

      await fin.send('/handover_sheet');
      await fin.expectReply(/实物发放清单/);
      await fin.upload({ fileName: f.name, bytes: f.bytes });
      await fin.expectReply(REFUSED);
    }
    // Entry list: an admin sends an .xlsx with nothing pending; hostile ones are refused, not imported.
    for (const f of corpus.filter((x) => x.name !== 'entities.xlsx' && x.name !== 'garbage.xlsx')) {
      await admin.upload({ fileName: f.name, bytes: f.bytes });
      await admin.expectReply(/已拒收|已停止处理/);
    }
    expect(await h.app.db.nomination.count({ where: { enteredProvincialAt: { not: null } } })).toBe(0);
    expect(await h.app.db.payment.count()).toBe(0);
  }, 240_000);
});

describe('hostile spreadsheets on the nomination upload path', () => {
  it('every hostile file a contact sends as a nomination list is refused; nothing is stored', async () => {
    const c = h.emu.user(CONTACT, { firstName: '联系人', languageCode: 'zh-hans' });
    // /template sets the category a file is for (one category: no question).
    await c.send('/template');
    await c.expectDocument(/\.xlsx/);
    for (const f of corpus) {
      await c.upload({ fileName: f.name, bytes: f.bytes });
      const reply = await c.expectReply();
      expect(reply.text).toMatch(
        new RegExp(`${REFUSED.source}|无法识别此类文件|无法读取|表头|没有数据|空白`),
      );
    }
    expect(await h.app.db.nomination.count()).toBe(0);
    const other = h.emu.user(ADMIN, { firstName: '管理员', languageCode: 'zh-hans' });
    await other.send('/help');
    await other.expectReply(/可用命令/);
  }, 240_000);
});
