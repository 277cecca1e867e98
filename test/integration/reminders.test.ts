import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Queues } from '../../src/adapters/queue/queues.ts';
import {
  onCampaignChanged,
  onNominationChanged,
  onPaymentRecorded,
  syncReminders,
} from '../../src/usecases/reminders.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { REDIS_URL } from '../support/harness.ts';
import * as fx from '../support/reminder-fixtures.ts';

// Sync against real PostgreSQL and real Redis (a queue prefix of its own); no worker runs here, so the
// delayed jobs just sit in Redis and can be inspected.

const { db } = useTestDatabase();
let queues: Queues;
let fed: number;
const NOW = fx.sh('2026-03-02 10:00'); // Monday

beforeAll(async () => {
  queues = new Queues(REDIS_URL, `test-rem-${randomBytes(4).toString('hex')}`);
  fed = await fx.federation(db);
});
// Each test starts with nobody holding a role (people of earlier tests would be reminded too: correctly).
beforeEach(async () => {
  await db.roleGrant.updateMany({ where: { revokedAt: null }, data: { revokedAt: new Date() } });
});
afterAll(async () => {
  await queues?.get('reminders').obliterate({ force: true });
  await queues?.close();
});

const queue = () => queues.get('reminders');

async function scheduled(campaignId: number) {
  return db.reminder.findMany({ where: { campaignId, status: 'scheduled' }, orderBy: { key: 'asc' } });
}

async function jobIds(): Promise<string[]> {
  const jobs = await queue().getJobs(['delayed', 'waiting', 'active', 'prioritized']);
  return jobs.map((j) => j.id!).sort();
}

describe('syncReminders', () => {
  it('a deadline moved twice leaves exactly one job and one scheduled row per key', async () => {
    const u = await fx.union(db, fed, '县人民医院工会');
    const contact = await fx.person(db, 7101, 'contact', { unionId: u });
    const c = await fx.campaign(db, fed, {
      opens: fx.sh('2026-02-24 09:00'),
      closes: fx.sh('2026-03-10 17:00'),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
    });
    await syncReminders(db, queues, { campaignId: c, now: NOW });
    expect((await scheduled(c)).map((r) => r.key)).toEqual([
      `rem-${c}-close-${contact}-1d`,
      `rem-${c}-close-${contact}-2h`,
      `rem-${c}-close-${contact}-3wd`,
    ]);

    for (const closes of ['2026-03-12 17:00', '2026-03-13 12:00']) {
      await db.campaign.update({ where: { id: c }, data: { nominationClosesAt: fx.sh(closes) } });
      await onCampaignChanged(db, queues, c, NOW);
    }
    const rows = await scheduled(c);
    expect(
      rows.map((r) => [r.key.split('-').at(-1), fx.sh('2026-03-13 12:00').getTime() - r.dueAt.getTime()]),
    ).toEqual([
      ['1d', 86_400_000],
      ['2h', 7_200_000],
      ['3wd', 3 * 86_400_000], // 3 working days before Friday 12:00 = Tuesday 12:00
    ]);
    expect(await db.reminder.count({ where: { campaignId: c } })).toBe(3);
    const ids = await jobIds();
    expect(ids.filter((id) => id.startsWith(`rem-${c}-`))).toEqual(rows.map((r) => r.key));
    for (const r of rows) {
      const job = await queue().getJob(r.key);
      expect(job!.timestamp + job!.delay - (job!.timestamp + r.dueAt.getTime() - NOW.getTime())).toBe(0);
      expect(job!.data).toEqual({ key: r.key });
    }
  });

  it('recording a payment cancels the "unpaid" reminder and schedules the entry deadline', async () => {
    const u = await fx.union(db, fed, '县邮政快递行业工会');
    const contact = await fx.person(db, 7201, 'contact', { unionId: u });
    const finance = await fx.person(db, 7202, 'finance');
    const c = await fx.campaign(db, fed, {
      opens: fx.sh('2026-01-05 09:00'),
      closes: fx.sh('2026-02-10 17:00'),
      review: fx.sh('2026-02-27 17:00'),
      payment: '2026-03-06',
    });
    const n = await fx.nomination(db, {
      campaignId: c,
      unionId: u,
      submittedById: contact,
      status: 'approved',
    });
    await syncReminders(db, queues, { campaignId: c, now: NOW });
    const before = await scheduled(c);
    expect(before.map((r) => r.key)).toEqual([
      `rem-${c}-payment-${finance}-1wd`,
      `rem-${c}-payment-${finance}-3wd`,
    ]);

    const paymentId = await fx.recordPayment(db, n, fx.sh('2026-03-02 11:00'), finance);
    await onPaymentRecorded(db, queues, paymentId, fx.sh('2026-03-02 11:05'));
    for (const r of before) {
      expect((await db.reminder.findUnique({ where: { key: r.key } }))?.status).toBe('cancelled');
      expect(await queue().getJob(r.key)).toBeUndefined();
    }
    // Now the provincial-entry deadline (30 working days after 2026-03-02 = 2026-04-14) is reminded.
    const after = await scheduled(c);
    expect(after.map((r) => r.key)).toEqual(
      [10, 1, 2, 5].map((left) => `rem-${c}-entry-${finance}-20260414-${left}wd`),
    );

    // Entered into the provincial system: the entry reminders go too.
    await db.nomination.update({
      where: { id: n },
      data: { enteredProvincialAt: fx.sh('2026-03-03 10:00') },
    });
    await onNominationChanged(db, queues, n, fx.sh('2026-03-03 10:00'));
    expect(await scheduled(c)).toEqual([]);
    for (const r of after) expect(await queue().getJob(r.key)).toBeUndefined();
  });

  it('a withdrawn draft that was the only open item cancels the contact reminders', async () => {
    const u = await fx.union(db, fed, '县供电局工会');
    const contact = await fx.person(db, 7301, 'contact', { unionId: u });
    const c = await fx.campaign(db, fed, {
      opens: fx.sh('2026-02-24 09:00'),
      closes: fx.sh('2026-03-10 17:00'),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
    });
    await fx.nomination(db, { campaignId: c, unionId: u, submittedById: contact, status: 'submitted' });
    const draft = await fx.nomination(db, {
      campaignId: c,
      unionId: u,
      submittedById: contact,
      status: 'draft',
    });
    await syncReminders(db, queues, { campaignId: c, now: NOW });
    expect(await scheduled(c)).toHaveLength(3);
    await db.nomination.update({ where: { id: draft }, data: { status: 'withdrawn' } });
    await onNominationChanged(db, queues, draft, NOW);
    expect(await scheduled(c)).toEqual([]);
    expect((await jobIds()).filter((id) => id.startsWith(`rem-${c}-`))).toEqual([]);
  });

  it('after a Redis flush a sync recreates exactly the due reminders; sync twice adds nothing', async () => {
    const u = await fx.union(db, fed, '县环卫所工会');
    await fx.person(db, 7401, 'contact', { unionId: u });
    await fx.person(db, 7402, 'contact', { unionId: u });
    await fx.person(db, 7403, 'reviewer');
    const c = await fx.campaign(db, fed, {
      opens: fx.sh('2026-02-24 09:00'),
      closes: fx.sh('2026-03-10 17:00'),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
    });
    const first = await syncReminders(db, queues, { now: NOW });
    const rows = await scheduled(c);
    // 2 contacts × 3 offsets; the reviewer's summary today 09:00 (an hour late: within the tolerance) and tomorrow.
    expect(rows).toHaveLength(2 * 3 + 2);
    const second = await syncReminders(db, queues, { now: NOW });
    expect(second.created + second.rescheduled + second.cancelled).toBe(0);
    expect(second.desired).toBe(first.desired);

    // One reminder was already sent: it must not come back.
    const sent = rows[0]!;
    await db.reminder.update({ where: { key: sent.key }, data: { status: 'sent', sentAt: NOW } });
    await queue().remove(sent.key);

    const mine = async () => (await jobIds()).filter((id) => id.startsWith(`rem-${c}-`));
    const beforeFlush = await mine();
    await queue().obliterate({ force: true });
    expect(await mine()).toEqual([]);
    const rebuilt = await syncReminders(db, queues, { now: NOW });
    expect(rebuilt.created).toBe(0);
    expect(await mine()).toEqual(beforeFlush);
    expect(await mine()).toEqual((await scheduled(c)).map((r) => r.key));
    expect(await mine()).not.toContain(sent.key);

    await syncReminders(db, queues, { now: NOW });
    expect(await mine()).toEqual(beforeFlush);
    const counts = await db.reminder.groupBy({
      by: ['key'],
      where: { campaignId: c },
      _count: { _all: true },
    });
    expect(counts.every((x) => x._count._all === 1)).toBe(true);
  });
});
