import type { ChildProcess } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportDir } from '../../src/adapters/files/export-parts.ts';
import { exportChildren } from '../../src/adapters/files/export-process.ts';
import { STEPS } from '../../src/domain/nomination/form.ts';
import { STAFF_JOB } from '../../src/usecases/staff-jobs.ts';
import { makeCard, makeId, seedCampaign, seedContact } from '../support/fixtures.ts';
import { startHarness, type Harness } from '../support/harness.ts';
import { xlsxText } from '../support/rebuild.ts';

// Heavy staff actions are jobs (issue 13 item 2, issue 17 item 2): /export and /entry_list answer with
// ONE message that the worker edits (queued → progress → done) and then send the file; /batch_new and
// "全部打款成功" run the same way; a double press runs the action once; a job re-run after its worker
// died between the commit and the answer delivers the stored result and does nothing twice. Emulator
// limits on (the harness default): progress edits go through the paced outbound path. EXPORT_PART_MB
// is tiny here so the ledger is split into parts, as one over Telegram's 50 MB would be.

const ADMIN = 9901;
const FINANCE = 9902;
const CONTACT = 9903;
const ROWS = 1_200;
let h: Harness;
let code: string;

/** Waits (up to a minute) until the staff job's row says its result was delivered. */
async function untilDelivered(id: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if ((await h.app.db.staffJob.findUniqueOrThrow({ where: { id } })).status === 'delivered') return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

const user = (id: number) => h.emu.user(id, { firstName: '测试', languageCode: 'zh-hans' });

beforeAll(async () => {
  h = await startHarness({ admins: [ADMIN], env: { EXPORT_PART_MB: '0.01' } });
  const db = h.app.db;
  const c = h.app.cipher;
  const campaign = await seedCampaign(db, {
    code: 'jobs-2026',
    budgetYuan: 10_000_000,
    categories: [{ code: 'needy', kind: 'needy_worker', nameZh: '困难职工', amountYuan: 800 }],
  });
  code = campaign.code;
  const contact = await seedContact(db, CONTACT, '任务测试工会');
  const p = await db.person.create({ data: { telegramId: BigInt(FINANCE), displayName: 'finance' } });
  await db.roleGrant.create({ data: { personId: p.id, role: 'finance', scope: '' } });
  const card = makeCard();
  const ids = Array.from({ length: 50 }, (_, i) => makeId('19800101', 100 + i));
  await db.nomination.createMany({
    data: Array.from({ length: ROWS }, (_, i) => ({
      campaignId: campaign.id,
      categoryId: campaign.categories[0]!.id,
      unionId: contact.union.id,
      submittedById: contact.person.id,
      status: 'approved' as const,
      revision: 1,
      fullName: `受助人${i}`,
      idNumberEnc: c.encrypt(ids[i % 50]!),
      idNumberHash: c.hash('id', `${ids[i % 50]!}-${i}`), // distinct: no yearly cap shared between rows
      phoneEnc: c.encrypt(`1390000${String(i % 10_000).padStart(4, '0')}`),
      sex: 'male' as const,
      employer: '县环卫所',
      benefitForm: 'transfer' as const,
      bankName: '农业银行',
      bankCardEnc: c.encrypt(card),
      bankCardLast4: card.slice(-4),
      amountFen: 80_000,
      draftAnswered: [...STEPS],
      submittedAt: new Date(),
      decidedAt: new Date(),
    })),
  });
}, 120_000);
afterAll(async () => {
  await h?.stop();
});

describe('staff jobs through the real bot and worker', () => {
  it('/export: one progress message, then the ledger in parts (over the part size), audited; payload ids only', async () => {
    const admin = user(ADMIN);
    await admin.send(`/export ${code}`);
    const progress = await admin.expectReply(/导出/);
    const docs = [];
    docs.push(await admin.expectDocument(/台账/, { timeoutMs: 60_000 }));
    const job = await h.app.db.staffJob.findFirstOrThrow({ where: { kind: 'ledger_export' } });
    // Wait for the job to finish, then read every part.
    await untilDelivered(job.id);
    const done = await h.app.db.staffJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(done.status).toBe('delivered');
    expect(done.activeKey).toBeNull();
    const parts = (done.result as { counts: { parts: number; rows: number } }).counts;
    expect(parts.rows).toBe(ROWS);
    expect(parts.parts).toBeGreaterThan(1);
    const all = (await admin.messages()).filter((m) => m.document?.file_name?.endsWith('.xlsx'));
    expect(all).toHaveLength(parts.parts);
    expect(all[0]!.caption).toContain(`第 1/${parts.parts} 部分`);
    let rows = 0;
    for (const m of all) rows += ((await xlsxText(await admin.download(m))).match(/受助人\d+/g) ?? []).length;
    expect(rows).toBe(ROWS);
    // The one message was edited into the result (not a second message).
    const final = (await admin.messages()).find((m) => m.messageId === progress.messageId)!;
    expect(final.text).toMatch(/导出完成，共 1,200 行/);
    expect(final.text).toContain('已按行拆分');
    expect(docs[0]).toBeTruthy();
    expect(await h.app.db.auditLog.count({ where: { action: 'ledger.export_full' } })).toBe(1);
    // The BullMQ payload is the job id alone; the row's parameters hold ids and codes.
    const bull = await h.app.queues.get('staff').getJob(job.id);
    if (bull) expect(bull.data).toEqual({ staffJobId: job.id });
    expect(JSON.stringify(done.params)).not.toMatch(/\d{17}[\dX]|1390000/);
  }, 120_000);

  it('/export re-run after its worker died between part 1 and part 2: only the parts not yet sent are sent', async () => {
    const admin = user(ADMIN);
    const job = await h.app.db.staffJob.findFirstOrThrow({ where: { kind: 'ledger_export' } });
    const parts = (job.result as { counts: { parts: number } }).counts.parts;
    expect(job.partsSent).toBe(parts);
    const xlsx = async () =>
      (await admin.messages()).filter((m) => m.document?.file_name?.endsWith('.xlsx')).length;
    const before = await xlsx();
    // The state the job is in when the attempt died right after part 1 reached the chat.
    await h.app.db.staffJob.update({
      where: { id: job.id },
      data: { status: 'running', partsSent: 1 },
    });
    await h.app.db.$executeRaw`UPDATE staff_job SET result = NULL WHERE id = ${job.id}`;
    await h.app.queues.get('staff').add(STAFF_JOB, { staffJobId: job.id }, { jobId: `${job.id}-again` });
    await untilDelivered(job.id);
    const done = await h.app.db.staffJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(done.status).toBe('delivered');
    expect(done.partsSent).toBe(parts);
    const sent = (await admin.messages())
      .filter((m) => m.document?.file_name?.endsWith('.xlsx'))
      .slice(before);
    expect(sent).toHaveLength(parts - 1);
    expect(sent[0]!.caption).toContain(`第 2/${parts} 部分`);
    expect(await xlsx()).toBe(before + parts - 1);
  }, 120_000);

  it('/batch_new then 全部打款成功 pressed twice: one batch, paid once; a re-run after a crash delivers only', async () => {
    const finance = user(FINANCE);
    await finance.send(`/batch_new ${code}`);
    await finance.expectReply(/已生成打款批次/, { timeoutMs: 60_000 });
    expect(await h.app.db.paymentBatch.count()).toBe(1);
    const batch = await h.app.db.paymentBatch.findFirstOrThrow();
    expect(batch.itemCount).toBe(ROWS);

    // Two presses of "全部打款成功" in a row: the second is refused while the first runs, or finds the
    // batch paid; either way the batch is paid once.
    await finance.press('全部打款成功');
    await finance.press('全部打款成功');
    await finance.expectReply(/已登记为打款成功/, { timeoutMs: 60_000 });
    for (let i = 0; i < 600; i++) {
      const open = await h.app.db.staffJob.count({ where: { kind: 'batch_paid', activeKey: { not: null } } });
      if (open === 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await h.app.db.auditLog.count({ where: { action: 'batch.paid' } })).toBe(1);
    expect(await h.app.db.payment.count({ where: { status: 'paid' } })).toBe(ROWS);
    const texts = (await finance.messages()).map((m) => m.text ?? '');
    expect(texts.filter((t) => t.includes('已登记为打款成功'))).toHaveLength(1);

    // A worker that died after the batch's transaction committed (result stored) but before the answer:
    // the job runs again and only delivers.
    const job = await h.app.db.staffJob.findFirstOrThrow({ where: { kind: 'batch_new' } });
    await h.app.db.staffJob.update({ where: { id: job.id }, data: { status: 'done', messageId: null } });
    await h.app.queues.get('staff').add(STAFF_JOB, { staffJobId: job.id }, { jobId: `${job.id}-again` });
    await untilDelivered(job.id);
    expect((await h.app.db.staffJob.findUniqueOrThrow({ where: { id: job.id } })).status).toBe('delivered');
    expect(await h.app.db.paymentBatch.count()).toBe(1);
    expect(await h.app.db.auditLog.count({ where: { action: 'batch.created' } })).toBe(1);
  }, 180_000);

  it('/entry_list: progress message, then the list of the paid records', async () => {
    const admin = user(ADMIN);
    await admin.send(`/entry_list ${code}`);
    const progress = await admin.expectReply(/录入清单/);
    await admin.expectDocument(/录入/, { timeoutMs: 60_000 });
    for (let i = 0; i < 300; i++) {
      const m = (await admin.messages()).find((x) => x.messageId === progress.messageId)!;
      if (/导出完成/.test(m.text ?? '')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // Every part of the list (the tiny part size splits it too), each with the header.
    const docs = (await admin.messages()).filter((m) => m.messageId > progress.messageId && m.document);
    let rows = 0;
    for (const d of docs) {
      const text = await xlsxText(await admin.download(d));
      expect(text).toContain('身份证号码');
      rows += (text.match(/受助人\d+/g) ?? []).length;
    }
    expect(rows).toBe(ROWS);
    const final = (await admin.messages()).find((m) => m.messageId === progress.messageId)!;
    expect(final.text).toMatch(/导出完成，共 1,200 行/);
    expect(await h.app.db.auditLog.count({ where: { action: 'entry.list_export' } })).toBe(1);
  }, 120_000);

  it('/export whose child process is killed mid-export: that attempt fails, its files go, nothing is sent; the retry delivers', async () => {
    const admin = user(ADMIN);
    const xlsxBefore = (await admin.messages()).filter((m) =>
      m.document?.file_name?.endsWith('.xlsx'),
    ).length;
    const audits = await h.app.db.auditLog.count({ where: { action: 'ledger.export_full' } });
    await admin.send(`/export ${code}`);
    const progress = await admin.expectReply(/导出/);
    // The export's child process, killed when it reports its first rows written.
    let child: ChildProcess | undefined;
    for (let i = 0; i < 3_000 && !child; i++) {
      [child] = exportChildren;
      if (!child) await new Promise((r) => setTimeout(r, 5));
    }
    expect(child).toBeDefined();
    let killedAt = 0;
    child!.on('message', (m: { progress?: number }) => {
      if (killedAt || m.progress === undefined) return;
      killedAt = m.progress;
      child!.kill('SIGKILL');
    });
    const job = await h.app.db.staffJob.findFirstOrThrow({
      where: { kind: 'ledger_export' },
      orderBy: { createdAt: 'desc' },
    });
    const bull = () => h.app.queues.get('staff').getJob(job.id);
    for (let i = 0; i < 300 && !(await bull())?.failedReason; i++)
      await new Promise((r) => setTimeout(r, 50));
    expect(killedAt).toBeGreaterThan(0);
    expect(killedAt).toBeLessThan(ROWS);
    expect((await bull())?.failedReason).toMatch(/export's child process stopped \(SIGKILL\)/);
    // The failed attempt removed its files and sent nothing (the retry waits out its backoff).
    const mine = () => readdirSync(exportDir()).filter((n) => n.startsWith(`${process.pid}-${job.id}-`));
    expect(mine()).toEqual([]);
    const failed = await h.app.db.staffJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(failed.partsSent).toBe(0);
    expect((await admin.messages()).filter((m) => m.document?.file_name?.endsWith('.xlsx'))).toHaveLength(
      xlsxBefore,
    );
    await untilDelivered(job.id);
    const done = await h.app.db.staffJob.findUniqueOrThrow({ where: { id: job.id } });
    expect(done.status).toBe('delivered');
    expect(done.attempts).toBe(2);
    const parts = (done.result as { counts: { parts: number; rows: number } }).counts;
    expect(parts.rows).toBe(ROWS);
    const sent = (await admin.messages())
      .filter((m) => m.document?.file_name?.endsWith('.xlsx'))
      .slice(xlsxBefore);
    expect(sent).toHaveLength(parts.parts);
    let rows = 0;
    for (const m of sent)
      rows += ((await xlsxText(await admin.download(m))).match(/受助人\d+/g) ?? []).length;
    expect(rows).toBe(ROWS);
    expect(mine()).toEqual([]);
    expect(await h.app.db.auditLog.count({ where: { action: 'ledger.export_full' } })).toBe(audits + 1);
    const final = (await admin.messages()).find((m) => m.messageId === progress.messageId)!;
    expect(final.text).toMatch(/导出完成，共 1,200 行/);
  }, 120_000);
});
