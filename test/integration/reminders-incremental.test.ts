import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues } from '../../src/adapters/queue/queues.ts';
import { defaultCalendar } from '../../src/domain/calendar/index.ts';
import {
  deriveReminders,
  type NominationFacts,
  type NominationStatusName,
  reminderSettingsFrom,
} from '../../src/domain/reminders/index.ts';
import {
  desiredReminders,
  onBatchChanged,
  onNominationChanged,
  onPaymentRecorded,
  onPeopleChanged,
  onReviewSummarySent,
  syncReminders,
} from '../../src/usecases/reminders.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { REDIS_URL } from '../support/harness.ts';
import * as fx from '../support/reminder-fixtures.ts';
import { seedScale } from '../support/scale-seed.ts';

// Incremental reminder sync (a change re-derives only its scope) against real PostgreSQL and Redis:
// after every kind of change, the rows and jobs are exactly what a full sync wants (the full sync that
// follows changes nothing); the set-based facts give what the pure rule gives over the rows; and a
// campaign far above PostgreSQL's bind-parameter limit (~32,000 nominations) syncs in full and per change.

const { db } = useTestDatabase();
let queues: Queues;
let fed: number;
const NOW = fx.sh('2026-03-02 10:00'); // Monday

beforeAll(async () => {
  queues = new Queues(REDIS_URL, `test-reminc-${randomBytes(4).toString('hex')}`);
  fed = await fx.federation(db);
});
afterAll(async () => {
  await queues?.get('reminders').obliterate({ force: true });
  await queues?.close();
});

const revokeAll = () =>
  db.roleGrant.updateMany({ where: { revokedAt: null }, data: { revokedAt: new Date() } });

async function scheduled(campaignId: number) {
  const rows = await db.reminder.findMany({
    where: { campaignId, status: 'scheduled' },
    orderBy: { key: 'asc' },
    select: { key: true, dueAt: true },
  });
  return rows.map((r) => `${r.key}@${r.dueAt.toISOString()}`);
}

async function jobKeys(campaignId: number) {
  const jobs = await queues.get('reminders').getJobs(['delayed', 'waiting', 'prioritized']);
  return jobs
    .map((j) => j.id!)
    .filter((id) => id.startsWith(`rem-${campaignId}-`))
    .sort();
}

/** The oracle: the pure rule over every row of the campaign (fine for a small campaign). */
async function pureDesired(campaignId: number, now: Date) {
  const c = await db.campaign.findUniqueOrThrow({ where: { id: campaignId } });
  const rows = await db.nomination.findMany({
    where: { campaignId },
    include: { payments: { where: { status: 'paid' } }, handovers: true },
  });
  const nominations: NominationFacts[] = rows.map((n) => {
    const paid = n.payments.map((p) => p.paidAt!.getTime()).sort((a, b) => b - a)[0];
    const h = n.handovers[0];
    return {
      id: n.id,
      status: n.status as NominationStatusName,
      unionId: n.unionId,
      submittedById: n.submittedById,
      draftExpiresAt: n.draftExpiresAt,
      paidAt:
        paid !== undefined
          ? new Date(paid)
          : h
            ? new Date(`${h.handedOverOn.toISOString().slice(0, 10)}T04:00:00Z`)
            : null,
      enteredProvincialAt: n.enteredProvincialAt,
    };
  });
  const grants = await db.roleGrant.findMany({
    where: { revokedAt: null, person: { blockedBotAt: null, telegramId: { not: null } } },
  });
  const of = (role: string) => [...new Set(grants.filter((g) => g.role === role).map((g) => g.personId))];
  return deriveReminders({
    campaign: {
      id: c.id,
      code: c.code,
      status: c.status,
      nominationOpensAt: c.nominationOpensAt,
      nominationClosesAt: c.nominationClosesAt,
      reviewDeadline: c.reviewDeadline,
      targetPaymentDate: c.targetPaymentDate.toISOString().slice(0, 10),
      entryWorkingDays: c.entryWorkingDays,
      settings: reminderSettingsFrom(c.settings),
    },
    nominations,
    people: {
      contacts: grants
        .filter((g) => g.role === 'contact' && g.unionId !== null)
        .map((g) => ({ personId: g.personId, unionId: g.unionId! })),
      reviewers: of('reviewer'),
      admins: of('admin'),
      finance: of('finance'),
    },
    now,
    calendar: defaultCalendar,
  }).map((d) => `${d.key}@${d.dueAt.toISOString()}`);
}

describe('incremental reminder sync', () => {
  it('after each kind of change the scoped sync leaves exactly what a full sync wants', async () => {
    await revokeAll();
    const u1 = await fx.union(db, fed, '县一中工会');
    const u2 = await fx.union(db, fed, '县二中工会');
    const u3 = await fx.union(db, fed, '县三中工会');
    const c1 = await fx.person(db, 8101, 'contact', { unionId: u1 });
    // A contact of two unions: reminded while either of them needs it.
    const c12 = await fx.person(db, 8102, 'contact', { unionId: u1 });
    await db.roleGrant.create({
      data: { personId: c12, role: 'contact', scope: `union:${u2}`, unionId: u2 },
    });
    const c3 = await fx.person(db, 8103, 'contact', { unionId: u3 });
    await fx.person(db, 8104, 'reviewer');
    const admin = await fx.person(db, 8105, 'admin');
    const c = await fx.campaign(db, fed, {
      opens: fx.sh('2026-02-24 09:00'),
      closes: fx.sh('2026-03-10 17:00'),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
    });
    const nom = (unionId: number, by: number, status: Parameters<typeof fx.nomination>[1]['status']) =>
      fx.nomination(db, { campaignId: c, unionId, submittedById: by, status });
    const draft1 = await nom(u1, c1, 'draft');
    const sub2 = await nom(u2, c12, 'submitted');
    const appr = await Promise.all([1, 2, 3, 4].map(() => nom(u3, c3, 'approved')));
    const full0 = await syncReminders(db, queues, { campaignId: c, now: NOW });
    expect(full0.created).toBeGreaterThan(0);

    let now = NOW;
    const check = async (label: string) => {
      const rows = await scheduled(c);
      // The set-based derivation is the pure rule over the rows.
      expect(
        (await desiredReminders(db, c, now)).map((d) => `${d.key}@${d.dueAt.toISOString()}`).sort(),
        label,
      ).toEqual((await pureDesired(c, now)).sort());
      const full = await syncReminders(db, queues, { campaignId: c, now });
      expect({ label, changed: full.created + full.rescheduled + full.cancelled }).toEqual({
        label,
        changed: 0,
      });
      expect(await scheduled(c), label).toEqual(rows);
      expect(await jobKeys(c), label).toEqual(rows.map((r) => r.split('@')[0]!));
    };
    await check('start');

    // A draft submitted: union 1 has something now, c1 stops being reminded (c12 still, for union 2? no:
    // union 2 has a submitted item too), so both close sets change.
    await db.nomination.update({ where: { id: draft1 }, data: { status: 'submitted' } });
    await onNominationChanged(db, queues, draft1, now);
    await check('draft submitted');

    // Returned for correction: union 2 needs its contacts again (c12, through union 2).
    await db.nomination.update({ where: { id: sub2 }, data: { status: 'returned' } });
    await onNominationChanged(db, queues, sub2, now);
    await check('returned');

    // Withdrawn: union 2 has nothing submitted.
    await db.nomination.update({ where: { id: sub2 }, data: { status: 'withdrawn' } });
    await onNominationChanged(db, queues, sub2, now);
    await check('withdrawn');

    // One payment (admins get the entry reminders: no finance yet).
    now = fx.sh('2026-03-02 11:05');
    const pay = await fx.recordPayment(db, appr[0]!, fx.sh('2026-03-02 11:00'), admin);
    await onPaymentRecorded(db, queues, pay, now);
    await check('one payment');

    // A batch of two, paid on Saturday and Sunday: same entry deadline as Monday's? Their own, derived.
    const batch = await db.paymentBatch.create({
      data: { campaignId: c, code: `B-inc-${c}`, createdById: admin, status: 'paid', paidAt: now },
    });
    for (const [i, at] of [
      [appr[1]!, fx.sh('2026-02-28 15:00')],
      [appr[2]!, fx.sh('2026-03-01 15:00')],
    ] as const) {
      await db.payment.create({
        data: { batchId: batch.id, nominationId: i, amountFen: 80_000, status: 'paid', paidAt: at },
      });
      await db.nomination.update({ where: { id: i }, data: { status: 'paid' } });
    }
    await onBatchChanged(db, queues, batch.id, now);
    await check('batch paid');

    // Goods handed over (delivered on the handover day).
    await db.handover.create({
      data: {
        nominationId: appr[3]!,
        handedOverOn: new Date('2026-03-03T00:00:00Z'),
        handedOverBy: '张三',
        recordedById: admin,
      },
    });
    await db.nomination.update({ where: { id: appr[3]! }, data: { status: 'handed_over' } });
    await onNominationChanged(db, queues, appr[3]!, now);
    await check('handed over');

    // Entered provincially one by one: a deadline's reminders stay while another item shares it.
    for (const id of appr) {
      await db.nomination.update({ where: { id }, data: { enteredProvincialAt: now } });
      await onNominationChanged(db, queues, id, now);
      await check(`entered ${id}`);
    }

    // People: a contact joins union 2; finance appears (takes the entry reminders over from admins);
    // the contact of union 3 blocks the bot.
    const joined = await fx.person(db, 8106, 'contact', { unionId: u2 });
    await onPeopleChanged(db, queues, now, { id: joined });
    await check('contact joined');
    await db.nomination.update({ where: { id: appr[1]! }, data: { enteredProvincialAt: null } });
    await onNominationChanged(db, queues, appr[1]!, now);
    const fin = await fx.person(db, 8107, 'finance');
    await onPeopleChanged(db, queues, now, { telegramId: 8107n });
    await check('finance granted');
    expect((await scheduled(c)).some((r) => r.startsWith(`rem-${c}-entry-${fin}-`))).toBe(true);
    await db.person.update({ where: { id: c3 }, data: { blockedBotAt: now } });
    await onPeopleChanged(db, queues, now, { id: c3 });
    await check('contact blocked the bot');

    // The day's review summary went out: the next working day's one is scheduled, nothing else moves.
    now = fx.sh('2026-03-03 09:01');
    const due = await db.reminder.findMany({
      where: { campaignId: c, kind: 'review_summary', status: 'scheduled', dueAt: { lt: now } },
    });
    expect(due.length).toBeGreaterThan(0);
    for (const row of due) {
      // What the worker does when it sends one: row sent, job done.
      await db.reminder.update({ where: { key: row.key }, data: { status: 'sent', sentAt: now } });
      await queues.get('reminders').remove(row.key);
    }
    const r = await onReviewSummarySent(db, queues, c, now);
    expect(r.created).toBe(1);
    await check('review summary sent');
  });

  it('a campaign of 45,000 nominations syncs in full and per change; a batch of 41,000 payments schedules the entry reminders', async () => {
    await revokeAll();
    const unions = await Promise.all(
      Array.from({ length: 50 }, (_, i) => fx.union(db, fed, `规模测试工会${i}`)),
    );
    const contacts = await Promise.all(
      unions.slice(0, 10).map((u, i) => fx.person(db, 9100 + i, 'contact', { unionId: u })),
    );
    await fx.person(db, 9200, 'reviewer');
    const admin = await fx.person(db, 9201, 'admin');
    const finance = await fx.person(db, 9202, 'finance');
    const c = await fx.campaign(db, fed, {
      opens: fx.sh('2026-02-24 09:00'),
      closes: fx.sh('2026-03-10 17:00'),
      review: fx.sh('2026-03-20 17:00'),
      payment: '2026-03-31',
    });
    const seed = await seedScale(db, {
      campaignId: c,
      unionIds: unions,
      submittedById: contacts[0]!,
      mix: { paid: 41_000, handedOver: 1_000, approved: 1_000, submitted: 1_000, returned: 500, draft: 500 },
      lastPaidAt: fx.sh('2026-03-02 09:00'),
    });
    expect(seed.total).toBe(45_000);

    // The batch alone (nothing synced before): every entry deadline of its payments is scheduled.
    const batch = await onBatchChanged(db, queues, seed.batchId, NOW);
    expect(batch.created).toBeGreaterThan(0);
    const entryRows = async () => (await scheduled(c)).filter((r) => /-entry(over)?-/.test(r));
    const afterBatch = await entryRows();
    expect(afterBatch.length).toBeGreaterThan(0);
    expect(
      afterBatch.every(
        (r) => r.startsWith(`rem-${c}-entry-${finance}-`) || r.startsWith(`rem-${c}-entryover-${admin}-`),
      ),
    ).toBe(true);
    expect(afterBatch.some((r) => r.startsWith(`rem-${c}-entry-${finance}-`))).toBe(true);

    const full = await syncReminders(db, queues, { campaignId: c, now: NOW });
    expect(full.desired).toBeGreaterThan(0);
    // The full sync agrees with what the batch scheduled.
    expect(await entryRows()).toEqual(afterBatch);
    const kinds = new Set((await scheduled(c)).map((r) => r.split('-')[2]));
    expect([...kinds].sort()).toEqual(['close', 'entry', 'entryover', 'payment', 'review']);

    // One submit (a draft of the union of contacts[0]) re-derives its scope only; full sync agrees.
    const draft = seed.blocks.draft.first;
    await db.nomination.update({ where: { id: draft }, data: { status: 'submitted' } });
    const one = await onNominationChanged(db, queues, draft, NOW);
    expect(one.campaigns).toBe(1);
    expect(one.desired).toBeLessThan(full.desired);
    const rows = await scheduled(c);
    const again = await syncReminders(db, queues, { campaignId: c, now: NOW });
    expect(again.created + again.rescheduled + again.cancelled).toBe(0);
    expect(await scheduled(c)).toEqual(rows);
  });
});
