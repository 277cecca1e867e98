import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queues } from '../../src/adapters/queue/queues.ts';
import {
  acknowledgeNotice,
  announceStatus,
  CAMPAIGN_OPENING_JOB,
  chaseIdleUnions,
  fanOutOpening,
  notifyDeadlineChange,
  onContactJoined,
  previewAnnouncement,
  scheduleCampaignOpening,
  sendAnnouncement,
} from '../../src/usecases/announcements.ts';
import { applyDeadlineChange, planDeadlineChange } from '../../src/usecases/deadlines.ts';
import { campaignFigures } from '../../src/usecases/report/figures.ts';
import { useTestDatabase } from '../support/test-db.ts';
import { REDIS_URL } from '../support/harness.ts';
import * as fx from '../support/reminder-fixtures.ts';

// Campaign notices against real PostgreSQL and Redis (a queue prefix of its own); no worker runs here,
// so the rows and jobs can be counted. Each test has a federation of its own (its own unions).

const { db } = useTestDatabase();
let queues: Queues;
const NOW = fx.sh('2026-03-02 10:00'); // Monday

beforeAll(async () => {
  queues = new Queues(REDIS_URL, `test-ann-${randomBytes(4).toString('hex')}`);
});
afterAll(async () => {
  await queues?.get('notifications').obliterate({ force: true });
  await queues?.close();
});

let tg = 70_000;
/** A federation with unions A, B, C (one contact each; A has a second, revoked contact) and a campaign. */
async function world(opens = fx.sh('2026-03-02 09:00')) {
  const fed = await fx.federation(db as never);
  const [a, b, c] = [
    await fx.union(db as never, fed, '县医院工会'),
    await fx.union(db as never, fed, '县环卫所工会'),
    await fx.union(db as never, fed, '县公交公司工会'),
  ];
  const ca = await fx.person(db as never, ++tg, 'contact', { unionId: a });
  const cb = await fx.person(db as never, ++tg, 'contact', { unionId: b, lang: 'en' });
  const cc = await fx.person(db as never, ++tg, 'contact', { unionId: c });
  const revoked = await fx.person(db as never, ++tg, 'contact', { unionId: a });
  await db.roleGrant.updateMany({ where: { personId: revoked }, data: { revokedAt: NOW } });
  const campaign = await fx.campaign(db as never, fed, {
    opens,
    closes: fx.sh('2026-03-13 17:00'),
    review: fx.sh('2026-03-20 17:00'),
    payment: '2026-03-31',
  });
  return { fed, unions: { a, b, c }, contacts: { ca, cb, cc, revoked }, campaign };
}

const openingRows = (campaignId: number) =>
  db.notice.findMany({ where: { campaignId, kind: 'campaign_opened' }, orderBy: { personId: 'asc' } });

describe('campaign opening', () => {
  it('one notice per active contact, none to a revoked contact, nothing new when run again', async () => {
    const w = await world();
    const first = await fanOutOpening(db, queues, w.campaign, NOW);
    expect(first).toEqual({ state: 'open', contacts: 3, created: 3 });
    const again = await fanOutOpening(db, queues, w.campaign, NOW);
    expect(again).toEqual({ state: 'open', contacts: 3, created: 0 });
    const rows = await openingRows(w.campaign);
    expect(rows.map((r) => r.personId).sort()).toEqual(
      [w.contacts.ca, w.contacts.cb, w.contacts.cc].sort((x, y) => x - y),
    );
    expect(rows.every((r) => r.status === 'queued' && r.uniqueKey.startsWith('opened-'))).toBe(true);
    // One job per row (same job id however often it is added).
    const jobs = await queues.get('notifications').getJobs(['waiting', 'delayed', 'prioritized']);
    for (const r of rows) expect(jobs.filter((j) => j.id === `notice-${r.id}`)).toHaveLength(1);
  });

  it('before `opens` nothing is sent, and the delayed job waits for `opens`', async () => {
    const w = await world(fx.sh('2026-03-02 12:00'));
    expect((await fanOutOpening(db, queues, w.campaign, NOW)).state).toBe('not_open_yet');
    expect(await openingRows(w.campaign)).toHaveLength(0);
    expect(await scheduleCampaignOpening(db, queues, w.campaign, NOW)).toBe('scheduled');
    const c = await db.campaign.findUniqueOrThrow({ where: { id: w.campaign } });
    const job = await queues
      .get('notifications')
      .getJob(`opening-${w.campaign}-${c.nominationOpensAt.getTime()}`);
    expect(job?.name).toBe(CAMPAIGN_OPENING_JOB);
    expect(job?.opts.delay).toBe(2 * 3_600_000);
    // At `opens` the fan-out runs.
    expect((await fanOutOpening(db, queues, w.campaign, fx.sh('2026-03-02 12:00'))).created).toBe(3);
  });

  it('a closed campaign sends nothing; a contact who joins while it is open gets it once', async () => {
    const w = await world();
    expect((await fanOutOpening(db, queues, w.campaign, fx.sh('2026-03-14 09:00'))).state).toBe('closed');
    expect(await openingRows(w.campaign)).toHaveLength(0);
    await fanOutOpening(db, queues, w.campaign, NOW);
    const late = await fx.person(db as never, ++tg, 'contact', { unionId: w.unions.b });
    expect(await onContactJoined(db, queues, late, NOW)).toBe(1);
    expect(await onContactJoined(db, queues, late, NOW)).toBe(0);
    expect(await openingRows(w.campaign)).toHaveLength(4);
  });
});

describe('announcements and status', () => {
  it('"unions that have submitted nothing" skips a union that has submitted; stored and audited', async () => {
    const w = await world();
    await fx.nomination(db as never, {
      campaignId: w.campaign,
      unionId: w.unions.a,
      submittedById: w.contacts.ca,
      status: 'submitted',
    });
    // A draft is not a submission: union B still counts as "submitted nothing".
    await fx.nomination(db as never, {
      campaignId: w.campaign,
      unionId: w.unions.b,
      submittedById: w.contacts.cb,
      status: 'draft',
    });
    const draft = { campaignId: w.campaign, text: '请尽快报送。', audience: 'not_submitted' as const };
    expect(await previewAnnouncement(db, draft, NOW)).toEqual({ recipients: 2, unions: 2 });
    const admin = await fx.person(db as never, ++tg, 'admin');
    const r = await sendAnnouncement(db, queues, { ...draft, actorId: admin, requestKey: 'k1' }, NOW);
    expect(r).toMatchObject({ ok: true, recipients: 2, unions: 2, repeated: false });
    const rows = await db.notice.findMany({ where: { campaignId: w.campaign, kind: 'announcement' } });
    expect(rows.map((x) => x.personId).sort()).toEqual([w.contacts.cb, w.contacts.cc].sort((x, y) => x - y));
    // The same confirmation again sends nothing more.
    const again = await sendAnnouncement(db, queues, { ...draft, actorId: admin, requestKey: 'k1' }, NOW);
    expect(again).toMatchObject({ ok: true, repeated: true });
    expect(await db.notice.count({ where: { campaignId: w.campaign, kind: 'announcement' } })).toBe(2);
    const audits = await db.auditLog.findMany({
      where: { action: 'announcement.send', entityId: String(w.campaign) },
    });
    expect(audits).toHaveLength(1);
    expect(audits[0]!.after).toMatchObject({ audience: 'not_submitted', recipients: 2, unions: 2 });
    // Returned items: none yet.
    expect(
      (
        await sendAnnouncement(
          db,
          queues,
          { ...draft, audience: 'returned', actorId: admin, requestKey: 'k2' },
          NOW,
        )
      ).ok,
    ).toBe(false);
  });

  it('acknowledgements show in the status, idle unions first; the chase reaches only those', async () => {
    const w = await world();
    await fanOutOpening(db, queues, w.campaign, NOW);
    // Delivered to all three (as the worker would record it).
    await db.notice.updateMany({ where: { campaignId: w.campaign }, data: { status: 'sent', sentAt: NOW } });
    const ack = (personId: number) =>
      acknowledgeNotice(db, { personId, ref: { kind: 'o', campaignId: w.campaign }, now: NOW });
    expect(await ack(w.contacts.cb)).toBe('acknowledged');
    expect(await ack(w.contacts.cb)).toBe('already');
    expect(await ack(w.contacts.revoked)).toBe('unknown'); // never had one
    await fx.nomination(db as never, {
      campaignId: w.campaign,
      unionId: w.unions.c,
      submittedById: w.contacts.cc,
      status: 'submitted',
    });
    const s = (await announceStatus(db, w.campaign, NOW))!;
    expect(s.unions.map((u) => [u.name, u.idle, u.acknowledged, u.submitted])).toEqual([
      ['县医院工会', true, 0, 0],
      ['县环卫所工会', false, 1, 0],
      ['县公交公司工会', false, 0, 1],
    ]);
    expect(s.totals).toEqual({ unions: 3, delivered: 3, acknowledged: 1, started: 0, submitted: 1, idle: 1 });
    expect(s.unions[0]!.contacts).toBe(1); // the revoked contact is not counted
    const admin = await fx.person(db as never, ++tg, 'admin');
    const chase = await chaseIdleUnions(
      db,
      queues,
      { actorId: admin, campaignId: w.campaign, requestKey: 'n1' },
      NOW,
    );
    expect(chase).toMatchObject({ ok: true, recipients: 1, unions: 1 });
    const sent = await db.notice.findMany({ where: { campaignId: w.campaign, kind: 'announcement' } });
    expect(sent.map((x) => x.personId)).toEqual([w.contacts.ca]);
    expect(sent[0]!.template).toBe('announce.chase');
  });
});

describe('deadline changes', () => {
  it('a moved nomination deadline notifies each active contact once per change', async () => {
    const w = await world();
    const admin = await fx.person(db as never, ++tg, 'admin');
    const code = (await db.campaign.findUniqueOrThrow({ where: { id: w.campaign } })).code;
    const move = async (value: string) => {
      const plan = await planDeadlineChange(db, { code, field: 'closes', value });
      if (!plan.ok) throw new Error(plan.problem.code);
      const r = await applyDeadlineChange(db, { actorId: admin, ...plan.change });
      if (!r.ok) throw new Error(r.problem.code);
      return r.change;
    };
    const first = await move('2026-03-16 17:00');
    const change = { ...first, changedAt: first.changedAt! };
    expect(await notifyDeadlineChange(db, queues, change, NOW)).toBe(3);
    expect(await notifyDeadlineChange(db, queues, change, NOW)).toBe(0); // the same change again
    const rows = await db.notice.findMany({ where: { campaignId: w.campaign, kind: 'deadline_changed' } });
    expect(rows).toHaveLength(3);
    expect((rows[0]!.params as { values: Record<string, string> }).values).toMatchObject({
      before: '2026-03-13 17:00',
      after: '2026-03-16 17:00',
    });
    // A second change is a new notice for each.
    const second = await move('2026-03-17 17:00');
    expect(await notifyDeadlineChange(db, queues, { ...second, changedAt: second.changedAt! }, NOW)).toBe(3);
    // The review deadline goes to reviewers only.
    const reviewer = await fx.person(db as never, ++tg, 'reviewer');
    const plan = await planDeadlineChange(db, { code, field: 'review', value: '2026-03-23 17:00' });
    if (!plan.ok) throw new Error(plan.problem.code);
    const r = await applyDeadlineChange(db, { actorId: admin, ...plan.change });
    if (!r.ok) throw new Error('not applied');
    await notifyDeadlineChange(db, queues, { ...r.change, changedAt: r.change.changedAt! }, NOW);
    const review = await db.notice.findMany({
      where: { campaignId: w.campaign, kind: 'deadline_changed', uniqueKey: { contains: '-review-' } },
    });
    expect(review.map((x) => x.personId)).toContain(reviewer);
    expect(review.some((x) => [w.contacts.ca, w.contacts.cb, w.contacts.cc].includes(x.personId!))).toBe(
      false,
    );
  });
});

describe('evaluation figures', () => {
  it('unions reached within 24 h of opening and the median time to a first submission', async () => {
    const w = await world(fx.sh('2026-03-02 09:00'));
    await fanOutOpening(db, queues, w.campaign, NOW);
    const at = (s: string) => fx.sh(s);
    await db.notice.updateMany({
      where: { campaignId: w.campaign, personId: { in: [w.contacts.ca, w.contacts.cb] } },
      data: { status: 'sent', sentAt: at('2026-03-02 09:05') },
    });
    await db.notice.updateMany({
      where: { campaignId: w.campaign, personId: w.contacts.cc },
      data: { status: 'sent', sentAt: at('2026-03-04 09:05') }, // two days late
    });
    for (const [unionId, personId, when] of [
      [w.unions.a, w.contacts.ca, '2026-03-02 19:00'], // 10 h
      [w.unions.b, w.contacts.cb, '2026-03-03 15:00'], // 30 h
      [w.unions.b, w.contacts.cb, '2026-03-02 21:00'], // 12 h: B's first
      [w.unions.c, w.contacts.cc, '2026-03-04 09:00'], // 48 h
    ] as const) {
      const id = await fx.nomination(db as never, {
        campaignId: w.campaign,
        unionId,
        submittedById: personId,
        status: 'submitted',
      });
      await db.nomination.update({ where: { id }, data: { submittedAt: at(when) } });
    }
    const f = await campaignFigures(db, w.campaign, fx.sh('2026-03-05 10:00'));
    expect(f.opening.reachHours).toBe(24);
    expect(f.opening.reached).toMatchObject({ num: 2, den: 3 });
    expect(f.opening.unionsSubmitted).toBe(3);
    expect(f.opening.medianHoursToFirstSubmission).toBe(12);
  });
});

describe('quiet hours', () => {
  it('a campaign opening at 23:00 waits until 08:00; a contact joining then gets it at once', async () => {
    const w = await world(fx.sh('2026-03-02 23:00'));
    const r = await fanOutOpening(db, queues, w.campaign, fx.sh('2026-03-02 23:00'));
    expect(r.state).toBe('quiet');
    expect(r.until?.toISOString()).toBe(fx.sh('2026-03-03 08:00').toISOString());
    expect(await openingRows(w.campaign)).toHaveLength(0);
    expect(await onContactJoined(db, queues, w.contacts.ca, fx.sh('2026-03-02 23:30'))).toBe(1);
    expect((await fanOutOpening(db, queues, w.campaign, fx.sh('2026-03-03 08:00'))).created).toBe(2);
  });
});
