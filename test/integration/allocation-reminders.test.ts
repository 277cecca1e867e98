import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FieldCipher } from '../../src/adapters/crypto/field-cipher.ts';
import { I18n } from '../../src/adapters/i18n.ts';
import { Queues } from '../../src/adapters/queue/queues.ts';
import { reportAllocationUse } from '../../src/usecases/allocations.ts';
import { onAllocationReported, syncReminders } from '../../src/usecases/reminders.ts';
import { sendReminder } from '../../src/usecases/send-reminder.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { makeId } from '../support/fixtures.ts';
import { REDIS_URL } from '../support/harness.ts';
import * as fx from '../support/reminder-fixtures.ts';

// Issue 15, item 3: working-day reminders chase the grassroots unions that have not reported how their
// allocation was spent, on real PostgreSQL and Redis. The report is due 10 working days (the default)
// after the target payment date 2026-02-10: across the Spring Festival (15-23 Feb off, Sat 14 and 28
// Feb worked) that is Monday 2026-03-02. Only the active contacts of unions with an unreported
// allocation are reminded; a union's report stops its reminders.

const { db } = useTestDatabase();
let queues: Queues;
const cipher = new FieldCipher([{ version: 1, key: randomBytes(32) }]);
const NOW = fx.sh('2026-02-11 10:00');
let campaignId: number;
let a1: number;
let a2: number;
let b1: number;
let c1: number;
let unionB: number;

beforeAll(async () => {
  queues = new Queues(REDIS_URL, `test-allocrem-${randomBytes(4).toString('hex')}`);
  const fed = await fx.federation(db);
  const unionA = await fx.union(db, fed, '城关镇总工会');
  unionB = await fx.union(db, fed, '县教育工会');
  const unionC = await fx.union(db, fed, '县卫健工会');
  a1 = await fx.person(db, 81_001, 'contact', { unionId: unionA });
  a2 = await fx.person(db, 81_002, 'contact', { unionId: unionA });
  await db.roleGrant.updateMany({ where: { personId: a2 }, data: { revokedAt: NOW } });
  b1 = await fx.person(db, 81_003, 'contact', { unionId: unionB });
  c1 = await fx.person(db, 81_004, 'contact', { unionId: unionC });
  await fx.person(db, 81_005, 'admin');
  campaignId = await fx.campaign(db, fed, {
    code: 'alloc-rem-2026',
    opens: fx.sh('2026-01-05 09:00'),
    closes: fx.sh('2026-01-20 17:00'),
    review: fx.sh('2026-01-30 17:00'),
    payment: '2026-02-10',
  });
  // The campaign file's `budget.allocations` (campaign files have their own tests).
  await db.unionAllocation.createMany({
    data: [
      { campaignId, unionId: unionA, amountFen: 2_000_000n },
      { campaignId, unionId: unionB, amountFen: 1_000_000n },
    ],
  });
});
afterAll(async () => {
  await queues?.get('reminders').obliterate({ force: true });
  await queues?.close();
});

async function allocationReminders() {
  const rows = await db.reminder.findMany({
    where: { campaignId, kind: 'allocation_report_due', status: 'scheduled' },
    orderBy: { key: 'asc' },
  });
  return rows.map((r) => `${r.key}@${r.dueAt.toISOString()}`);
}

const keysOf = (personId: number) => [
  `rem-${campaignId}-alloc-${personId}-20260302-0wd@2026-03-02T01:00:00.000Z`,
  `rem-${campaignId}-alloc-${personId}-20260302-2wd@2026-02-27T01:00:00.000Z`,
  `rem-${campaignId}-alloc-${personId}-20260302-5wd@2026-02-24T01:00:00.000Z`,
  `rem-${campaignId}-alloc-${personId}-20260302-over@2026-03-03T01:00:00.000Z`,
];

describe('allocation report reminders', () => {
  it('the active contacts of unions that have not reported get them, in working days', async () => {
    await syncReminders(db, queues, { campaignId, now: NOW });
    // Not the revoked contact of union A, not the contact of a union without an allocation.
    expect(await allocationReminders()).toEqual([...keysOf(a1), ...keysOf(b1)].sort());
    const jobs = await queues.get('reminders').getJobs(['delayed']);
    expect(jobs.map((j) => j.id).filter((id) => id?.includes('-alloc-')).length).toBe(8);
    expect(
      await db.reminder.count({ where: { personId: { in: [a2, c1] }, kind: 'allocation_report_due' } }),
    ).toBe(0);
  });

  it("a union's report stops its reminders; a full sync afterwards changes nothing", async () => {
    const r = await reportAllocationUse(db, cipher, {
      campaignId,
      unionId: unionB,
      actorId: b1,
      rows: [
        {
          line: 2,
          fullName: '孙阿姨',
          idNumber: makeId('19580303', 21),
          amountFen: 1_000_000,
          paidOn: '2026-02-10',
        },
      ],
      evidenceFileId: 'signed-list',
      now: NOW,
    });
    expect(r).toMatchObject({ ok: true });
    const changed = await onAllocationReported(db, queues, campaignId, NOW);
    expect(changed).toMatchObject({ cancelled: 4, created: 0 });
    expect(await allocationReminders()).toEqual(keysOf(a1).sort());
    const jobs = await queues.get('reminders').getJobs(['delayed']);
    expect(jobs.map((j) => j.id!).filter((id) => id.includes(`-alloc-${b1}-`))).toEqual([]);
    const again = await syncReminders(db, queues, { campaignId, now: NOW });
    expect(again).toMatchObject({ created: 0, rescheduled: 0, cancelled: 0 });
  });

  it('the reminder names the union, its allocation, the deadline and the command', async () => {
    const sent: { chatId: number; text: string }[] = [];
    const deps = {
      db,
      i18n: new I18n('zh-CN'),
      // The Telegram client boundary only: the message text is what is checked here.
      telegram: {
        sendMessage: async (chatId: number | string, text: string) => {
          sent.push({ chatId: Number(chatId), text });
          return {} as never;
        },
      },
    };
    const key = `rem-${campaignId}-alloc-${a1}-20260302-5wd`;
    const out = await sendReminder({ ...deps, now: () => fx.sh('2026-02-24 09:00') }, key);
    expect(out).toEqual({ outcome: 'sent' });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.chatId).toBe(81_001);
    expect(sent[0]!.text).toContain('城关镇总工会');
    expect(sent[0]!.text).toContain('拨付 20000.00 元');
    expect(sent[0]!.text).toContain('2026-03-02');
    expect(sent[0]!.text).toContain('/allocation_report alloc-rem-2026');
    expect(sent[0]!.text).toContain('5 个工作日');

    // Overdue: the working day after the deadline, still not reported.
    const over = await sendReminder(
      { ...deps, now: () => fx.sh('2026-03-03 09:00') },
      `rem-${campaignId}-alloc-${a1}-20260302-over`,
    );
    expect(over).toEqual({ outcome: 'sent' });
    expect(sent[1]!.text).toContain('逾期 1 个工作日');
  });
});
