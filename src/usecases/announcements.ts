import { randomBytes } from 'node:crypto';
import { type Db, Prisma, uniqueViolation } from '../adapters/db/client.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import {
  isQuiet,
  NOT_SUBMITTED_STATUSES,
  nextAllowed,
  reminderSettingsFrom,
} from '../domain/reminders/index.ts';
import { audit } from './audit.ts';
import { campaignState } from './campaigns.ts';
import { enqueueNotices, type NoticeRequest } from './notices.ts';

// Campaign notices to grassroots contacts, all through the one notice pipeline (usecases/notices.ts,
// send-notice.ts): the rows are the claim (once per key), the worker paces the sends, a 403 marks the
// person unreachable (shown in /announce_status for staff to phone). Three kinds:
// - campaign_opened: every active contact of every active union of the campaign's federation, when
//   nominations open (a delayed `campaign-opening` job at `opens`, re-checked at worker start and after
//   every change of the campaign) and a contact who joins while it is open. Key `opened-<c>-<person>`.
// - announcement: /announce (staff text, optional file, an audience) and the one-button follow-up of
//   /announce_status to the unions that have done nothing. One `announcement` row each (audited),
//   key `announce-<announcement>-<person>`.
// - deadline_changed: /deadline moved the nomination deadline (contacts) or the review deadline
//   (reviewers). Key `deadline-<c>-<field>-<change instant>-<person>`: once per change and person.
// Texts are composed at send time in the person's language (usecases/campaign-notice-texts.ts).

export const CAMPAIGN_OPENING_JOB = 'campaign-opening';
export const AUDIENCES = ['all', 'not_submitted', 'returned', 'union'] as const;
export type Audience = (typeof AUDIENCES)[number] | 'idle';

/** Acknowledgement references carried by the "已阅" button: opening (campaign id) or announcement id. */
export type AckRef = { kind: 'o'; campaignId: number } | { kind: 'a'; announcementId: number };

export const openingKey = (campaignId: number, personId: number) => `opened-${campaignId}-${personId}`;
export const announcementKey = (announcementId: number, personId: number) =>
  `announce-${announcementId}-${personId}`;

const notSubmitted = Prisma.sql`${[...NOT_SUBMITTED_STATUSES]}::"NominationStatus"[]`;

// ------------------------------------------------------------------------------------------ audiences

/** SQL condition on union `u` for an audience of campaign `campaignId`. */
function audienceWhere(campaignId: number, audience: Audience, unionId: number | null, now: Date) {
  switch (audience) {
    case 'all':
      return Prisma.sql`true`;
    case 'union':
      return Prisma.sql`u.id = ${unionId ?? -1}`;
    // Uncorrelated sets (hashed once), not one sub-query per union.
    case 'not_submitted':
      return Prisma.sql`u.id NOT IN (SELECT n.union_id FROM nomination n WHERE n.campaign_id = ${campaignId}
        AND n.status <> ALL(${notSubmitted}))`;
    case 'returned':
      return Prisma.sql`u.id IN (SELECT n.union_id FROM nomination n WHERE n.campaign_id = ${campaignId}
        AND n.status = 'returned')`;
    case 'idle':
      // Done nothing: nothing submitted, no live draft, no contact of the union acknowledged a notice.
      return Prisma.sql`u.id NOT IN (SELECT n.union_id FROM nomination n WHERE n.campaign_id = ${campaignId}
          AND (n.status <> ALL(${notSubmitted})
            OR (n.status = 'draft' AND (n.draft_expires_at IS NULL OR n.draft_expires_at > ${now}))))
        AND u.id NOT IN (SELECT g2.union_id FROM notice t JOIN role_grant g2 ON g2.person_id = t.person_id
          AND g2.role = 'contact' AND g2.revoked_at IS NULL AND g2.union_id IS NOT NULL
          WHERE t.campaign_id = ${campaignId} AND t.acknowledged_at IS NOT NULL)`;
  }
}

/**
 * The active contacts (one row per person) of the active unions of the campaign's federation that match
 * `audience`, with the number of unions they stand for. Set-based: one query however many unions.
 */
export async function audienceContacts(
  db: Db,
  campaignId: number,
  audience: Audience,
  unionId: number | null,
  now: Date,
  onlyPersons?: number[],
): Promise<{ personIds: number[]; unions: number }> {
  const persons = onlyPersons ? Prisma.sql`AND g.person_id = ANY(${onlyPersons}::int[])` : Prisma.empty;
  // Hash joins (see announceStatus): right for a read of every contact, whatever the statistics say.
  const rows = await db.$transaction(async (tx) => {
    await tx.$executeRaw`SET LOCAL enable_nestloop = off`;
    return tx.$queryRaw<{ person_id: number; union_id: number }[]>`
    SELECT g.person_id, g.union_id
    FROM role_grant g
    JOIN grassroots_union u ON u.id = g.union_id
    JOIN person p ON p.id = g.person_id
    JOIN campaign c ON c.id = ${campaignId}
    WHERE g.role = 'contact' AND g.revoked_at IS NULL AND u.active AND u.federation_id = c.federation_id
      AND p.telegram_id IS NOT NULL ${persons}
      AND ${audienceWhere(campaignId, audience, unionId, now)}`;
  });
  return {
    personIds: [...new Set(rows.map((r) => r.person_id))].sort((a, b) => a - b),
    unions: new Set(rows.map((r) => r.union_id)).size,
  };
}

// --------------------------------------------------------------------------------------- the opening

const openingButtons = (campaignId: number): NoticeRequest['buttons'] => [
  { textKey: 'announce.btn_start', action: 'nm_open', args: [campaignId] },
  { textKey: 'announce.btn_ack', action: 'an_ack', args: ['o', campaignId] },
];

export interface OpeningResult {
  /** quiet: inside the campaign's quiet hours, run again at `until` (an opening at midnight waits). */
  state: 'open' | 'not_open_yet' | 'closed' | 'gone' | 'quiet';
  contacts: number;
  created: number;
  until?: Date;
}

/**
 * Sends the opening notice of a campaign that is open at `now` to every active contact in scope (or only
 * to `personIds`) who has not had it. Idempotent: run it any number of times.
 */
export async function fanOutOpening(
  db: Db,
  queues: Queues,
  campaignId: number,
  now: Date,
  personIds?: number[],
): Promise<OpeningResult> {
  // One person who just joined is using the bot right now: quiet hours do not hold their notice back.
  const c = await db.campaign.findUnique({ where: { id: campaignId } });
  if (!c) return { state: 'gone', contacts: 0, created: 0 };
  const phase = campaignState(
    {
      status: c.status,
      timeline: {
        nominationOpens: c.nominationOpensAt,
        nominationCloses: c.nominationClosesAt,
        reviewDeadline: c.reviewDeadline,
      },
    },
    now,
  );
  if (phase === 'not_open_yet') return { state: 'not_open_yet', contacts: 0, created: 0 };
  if (phase !== 'open') return { state: 'closed', contacts: 0, created: 0 };
  const { quietHours } = reminderSettingsFrom(c.settings);
  if (!personIds && isQuiet(now, { hours: quietHours })) {
    return { state: 'quiet', contacts: 0, created: 0, until: nextAllowed(now, { hours: quietHours }) };
  }
  const { personIds: contacts } = await audienceContacts(db, campaignId, 'all', null, now, personIds);
  const created = await enqueueNotices(
    db,
    queues,
    contacts.map((personId) => ({
      uniqueKey: openingKey(campaignId, personId),
      kind: 'campaign_opened',
      personId,
      campaignId,
      template: 'announce.opened',
      buttons: openingButtons(campaignId),
    })),
  );
  return { state: 'open', contacts: contacts.length, created };
}

/**
 * Schedules the opening of one campaign: a delayed job at `opens` (job id per opening instant, so a moved
 * `opens` gets its own job and the old one finds the campaign not open yet and does nothing), or at once
 * when it is open already. Nothing for a campaign whose nominations have closed.
 */
export async function scheduleCampaignOpening(
  db: Db,
  queues: Queues,
  campaignId: number,
  now: Date,
): Promise<'scheduled' | 'closed'> {
  const c = await db.campaign.findUnique({
    where: { id: campaignId },
    select: { id: true, status: true, nominationOpensAt: true, nominationClosesAt: true },
  });
  if (!c || c.status === 'archived' || c.nominationClosesAt.getTime() <= now.getTime()) return 'closed';
  const opensMs = c.nominationOpensAt.getTime();
  await queues.get('notifications').add(
    CAMPAIGN_OPENING_JOB,
    { campaignId: c.id },
    {
      jobId: `opening-${c.id}-${opensMs}`,
      delay: Math.max(0, opensMs - now.getTime()),
      attempts: 8,
      backoff: { type: 'exponential', delay: 5_000 },
      removeOnComplete: { count: 1_000 },
      removeOnFail: { count: 1_000 },
    },
  );
  return 'scheduled';
}

/** At worker start: every campaign that is open or will open (re-adds lost jobs; sends nothing twice). */
export async function scheduleCampaignOpenings(db: Db, queues: Queues, now: Date): Promise<number> {
  const rows = await db.campaign.findMany({
    where: { status: { not: 'archived' }, nominationClosesAt: { gt: now } },
    select: { id: true },
  });
  for (const r of rows) await scheduleCampaignOpening(db, queues, r.id, now);
  return rows.length;
}

/** A contact joined (invite redeemed): the opening notices of every campaign open now. */
export async function onContactJoined(db: Db, queues: Queues, personId: number, now: Date) {
  const open = await db.campaign.findMany({
    where: { status: { not: 'archived' }, nominationOpensAt: { lte: now }, nominationClosesAt: { gt: now } },
    select: { id: true },
  });
  let created = 0;
  for (const c of open) created += (await fanOutOpening(db, queues, c.id, now, [personId])).created;
  return created;
}

// ------------------------------------------------------------------------------------ acknowledgement

export type AckOutcome = 'acknowledged' | 'already' | 'unknown';

/** "已阅": marks the person's own notice read (once; audited). A notice of someone else is `unknown`. */
export async function acknowledgeNotice(
  db: Db,
  input: { personId: number; ref: AckRef; now: Date },
): Promise<AckOutcome> {
  const key =
    input.ref.kind === 'o'
      ? openingKey(input.ref.campaignId, input.personId)
      : announcementKey(input.ref.announcementId, input.personId);
  const notice = await db.notice.findUnique({
    where: { uniqueKey: key },
    select: { id: true, personId: true, acknowledgedAt: true, campaignId: true },
  });
  if (!notice || notice.personId !== input.personId) return 'unknown';
  if (notice.acknowledgedAt) return 'already';
  return db.$transaction(async (tx) => {
    const r = await tx.notice.updateMany({
      where: { id: notice.id, acknowledgedAt: null },
      data: { acknowledgedAt: input.now },
    });
    if (r.count === 0) return 'already' as const;
    await audit(tx, {
      actorId: input.personId,
      action: 'notice.acknowledged',
      entity: 'notice',
      entityId: notice.id,
      after: { campaignId: notice.campaignId, key },
    });
    return 'acknowledged' as const;
  });
}

// ---------------------------------------------------------------------------------- staff announcements

/** A campaign staff can announce on (not archived), by code. */
export async function announceableCampaign(db: Db, code: string) {
  const c = await db.campaign.findUnique({
    where: { code },
    select: { id: true, code: true, titleZh: true, titleEn: true, status: true, federationId: true },
  });
  return c && c.status !== 'archived' ? c : null;
}

/** Unions of the campaign's federation whose name or code matches (exact first, else containing). */
export async function findUnions(db: Db, campaignId: number, query: string) {
  const c = await db.campaign.findUnique({ where: { id: campaignId }, select: { federationId: true } });
  if (!c) return [];
  const q = query.normalize('NFKC').trim();
  if (q === '') return [];
  const exact = await db.union.findMany({
    where: { federationId: c.federationId, active: true, OR: [{ name: q }, { code: q }] },
    select: { id: true, name: true },
    take: 10,
  });
  if (exact.length > 0) return exact;
  return db.union.findMany({
    where: { federationId: c.federationId, active: true, name: { contains: q } },
    select: { id: true, name: true },
    orderBy: { name: 'asc' },
    take: 10,
  });
}

export interface AnnouncementDraft {
  campaignId: number;
  text: string;
  fileId?: string | null;
  fileName?: string | null;
  audience: Audience;
  unionId?: number | null;
}

export const MAX_ANNOUNCEMENT_CHARS = 2000;

/** How many contacts (and unions) an announcement would reach now. */
export async function previewAnnouncement(db: Db, d: AnnouncementDraft, now: Date) {
  const r = await audienceContacts(db, d.campaignId, d.audience, d.unionId ?? null, now);
  return { recipients: r.personIds.length, unions: r.unions };
}

/** A fresh key for one confirmation (a repeated press of the same button creates nothing new). */
export const newRequestKey = () => randomBytes(9).toString('base64url');

export type SendAnnouncementResult =
  | { ok: true; announcementId: number; recipients: number; unions: number; repeated: boolean }
  | { ok: false; problem: 'campaign_unknown' | 'empty' | 'too_long' | 'no_recipients' };

/**
 * Stores the announcement (audited, with its audience and recipient count, never the contacts' data)
 * and queues one notice per contact. `requestKey` makes a second confirmation a no-op.
 */
export async function sendAnnouncement(
  db: Db,
  queues: Queues,
  input: AnnouncementDraft & { actorId: number; requestKey: string; kind?: 'announcement' | 'follow_up' },
  now: Date,
): Promise<SendAnnouncementResult> {
  const kind = input.kind ?? 'announcement';
  const text = input.text.trim();
  if (kind === 'announcement' && text === '') return { ok: false, problem: 'empty' };
  if (text.length > MAX_ANNOUNCEMENT_CHARS) return { ok: false, problem: 'too_long' };
  const c = await db.campaign.findUnique({ where: { id: input.campaignId }, select: { status: true } });
  if (!c || c.status === 'archived') return { ok: false, problem: 'campaign_unknown' };
  const existing = await db.announcement.findUnique({ where: { requestKey: input.requestKey } });
  if (existing) {
    return {
      ok: true,
      announcementId: existing.id,
      recipients: existing.recipients,
      unions: 0,
      repeated: true,
    };
  }
  const who = await audienceContacts(db, input.campaignId, input.audience, input.unionId ?? null, now);
  if (who.personIds.length === 0) return { ok: false, problem: 'no_recipients' };
  let created: { id: number };
  try {
    created = await db.$transaction(async (tx) => {
      const a = await tx.announcement.create({
        data: {
          campaignId: input.campaignId,
          kind,
          text: text === '' ? null : text,
          fileId: input.fileId ?? null,
          fileName: input.fileName ?? null,
          audience: input.audience,
          unionId: input.unionId ?? null,
          recipients: who.personIds.length,
          requestKey: input.requestKey,
          createdById: input.actorId,
        },
        select: { id: true },
      });
      await audit(tx, {
        actorId: input.actorId,
        action: kind === 'follow_up' ? 'announcement.follow_up' : 'announcement.send',
        entity: 'campaign',
        entityId: input.campaignId,
        after: {
          announcementId: a.id,
          audience: input.audience,
          unionId: input.unionId ?? null,
          recipients: who.personIds.length,
          unions: who.unions,
          chars: text.length,
          file: input.fileName ?? null,
        },
      });
      return a;
    });
  } catch (err) {
    // The same confirmation pressed twice at once: the other press stored it.
    if (uniqueViolation(err)) {
      const a = await db.announcement.findUniqueOrThrow({ where: { requestKey: input.requestKey } });
      return { ok: true, announcementId: a.id, recipients: a.recipients, unions: 0, repeated: true };
    }
    throw err;
  }
  const open = await db.campaign.findFirst({
    where: {
      id: input.campaignId,
      nominationOpensAt: { lte: now },
      nominationClosesAt: { gt: now },
    },
    select: { id: true },
  });
  await enqueueNotices(
    db,
    queues,
    who.personIds.map((personId) => ({
      uniqueKey: announcementKey(created.id, personId),
      kind: 'announcement',
      personId,
      campaignId: input.campaignId,
      announcementId: created.id,
      template: kind === 'follow_up' ? 'announce.chase' : 'announce.message',
      buttons: [
        ...(open ? [{ textKey: 'announce.btn_start', action: 'nm_open', args: [input.campaignId] }] : []),
        { textKey: 'announce.btn_ack', action: 'an_ack', args: ['a', created.id] },
      ],
    })),
  );
  return {
    ok: true,
    announcementId: created.id,
    recipients: who.personIds.length,
    unions: who.unions,
    repeated: false,
  };
}

/** The one-button follow-up of /announce_status: a reminder to the contacts of the unions doing nothing. */
export function chaseIdleUnions(
  db: Db,
  queues: Queues,
  input: { actorId: number; campaignId: number; requestKey: string },
  now: Date,
) {
  return sendAnnouncement(
    db,
    queues,
    {
      campaignId: input.campaignId,
      text: '',
      audience: 'idle',
      actorId: input.actorId,
      requestKey: `chase-${input.campaignId}-${input.requestKey}`,
      kind: 'follow_up',
    },
    now,
  );
}

// --------------------------------------------------------------------------------------- who has read it

export interface UnionStatus {
  unionId: number;
  name: string;
  contacts: number;
  /** Contacts whose opening notice was delivered / could not be delivered. */
  delivered: number;
  unreachable: number;
  /** Contacts who pressed "已阅" on any notice of the campaign. */
  acknowledged: number;
  /** Live drafts. */
  started: number;
  submitted: number;
  /** Nothing acknowledged, started or submitted. */
  idle: boolean;
}

export interface AnnounceStatus {
  campaign: { id: number; code: string; titleZh: string; titleEn: string; noticeDocument: string | null };
  documentUploaded: boolean;
  unions: UnionStatus[];
  totals: {
    unions: number;
    delivered: number;
    acknowledged: number;
    started: number;
    submitted: number;
    idle: number;
  };
}

/**
 * Per union of the campaign's federation: delivered / acknowledged / started / submitted, the unions that
 * have done nothing first (then by name). Two grouped queries, whatever the number of unions.
 */
export async function announceStatus(db: Db, campaignId: number, now: Date): Promise<AnnounceStatus | null> {
  const c = await db.campaign.findUnique({ where: { id: campaignId } });
  if (!c) return null;
  const [contactRows, nominationRows, doc] = await Promise.all([
    // Right after a bulk opening the planner may not know the notice table has grown (statistics come
    // with autovacuum later) and pick a nested loop over every contact × notice: minutes at province
    // scale. Hash joins are always right for this whole-campaign read.
    db.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL enable_nestloop = off`;
      return tx.$queryRaw<
        {
          union_id: number;
          name: string;
          contacts: number;
          delivered: number;
          unreachable: number;
          acknowledged: number;
        }[]
      >`
      SELECT u.id AS union_id, u.name,
             count(DISTINCT g.person_id)::int AS contacts,
             count(DISTINCT g.person_id) FILTER (WHERE t.kind = 'campaign_opened' AND t.status = 'sent')::int
               AS delivered,
             count(DISTINCT g.person_id) FILTER (WHERE t.kind = 'campaign_opened'
               AND t.status IN ('unreachable', 'failed'))::int AS unreachable,
             count(DISTINCT g.person_id) FILTER (WHERE t.acknowledged_at IS NOT NULL)::int AS acknowledged
      FROM grassroots_union u
      LEFT JOIN role_grant g ON g.union_id = u.id AND g.role = 'contact' AND g.revoked_at IS NULL
      LEFT JOIN notice t ON t.campaign_id = ${campaignId} AND t.person_id = g.person_id
        AND t.kind IN ('campaign_opened', 'announcement')
      WHERE u.federation_id = ${c.federationId} AND u.active
      GROUP BY u.id, u.name`;
    }),
    db.$queryRaw<{ union_id: number; started: number; submitted: number }[]>`
      SELECT n.union_id,
             count(*) FILTER (WHERE n.status = 'draft'
               AND (n.draft_expires_at IS NULL OR n.draft_expires_at > ${now}))::int AS started,
             count(*) FILTER (WHERE n.status <> ALL(${notSubmitted}))::int AS submitted
      FROM nomination n WHERE n.campaign_id = ${campaignId}
      GROUP BY n.union_id`,
    c.noticeDocument
      ? db.campaignDocument.findUnique({
          where: { campaignId_fileName: { campaignId, fileName: c.noticeDocument } },
          select: { id: true },
        })
      : null,
  ]);
  const byUnion = new Map(nominationRows.map((r) => [r.union_id, r]));
  const unions: UnionStatus[] = contactRows.map((r) => {
    const n = byUnion.get(r.union_id);
    const started = n?.started ?? 0;
    const submitted = n?.submitted ?? 0;
    return {
      unionId: r.union_id,
      name: r.name,
      contacts: r.contacts,
      delivered: r.delivered,
      unreachable: r.unreachable,
      acknowledged: r.acknowledged,
      started,
      submitted,
      idle: r.acknowledged === 0 && started === 0 && submitted === 0,
    };
  });
  unions.sort(
    (a, b) =>
      Number(b.idle) - Number(a.idle) ||
      Number(a.submitted > 0) - Number(b.submitted > 0) ||
      a.name.localeCompare(b.name, 'zh-CN'),
  );
  const count = (f: (u: UnionStatus) => boolean) => unions.filter(f).length;
  return {
    campaign: {
      id: c.id,
      code: c.code,
      titleZh: c.titleZh,
      titleEn: c.titleEn,
      noticeDocument: c.noticeDocument,
    },
    documentUploaded: doc !== null,
    unions,
    totals: {
      unions: unions.length,
      delivered: count((u) => u.delivered > 0),
      acknowledged: count((u) => u.acknowledged > 0),
      started: count((u) => u.started > 0),
      submitted: count((u) => u.submitted > 0),
      idle: count((u) => u.idle),
    },
  };
}

// ------------------------------------------------------------------------------------- notice document

export const NOTICE_DOCUMENT_MAX_BYTES = 20 * 1024 * 1024;
const NOTICE_MIME = new Set([
  'application/pdf',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
]);

/** A .pdf or .docx by name (and, when Telegram reports one, a matching MIME type). */
export function isNoticeDocument(doc: { file_name?: string; mime_type?: string }): boolean {
  if (!doc.file_name || !/\.(pdf|docx)$/i.test(doc.file_name)) return false;
  return doc.mime_type === undefined || NOTICE_MIME.has(doc.mime_type.toLowerCase());
}

export type AttachDocumentResult =
  | { ok: true; campaignCode: string; fileName: string; matches: boolean; expected: string | null }
  | { ok: false; problem: 'campaign_unknown' | 'not_pdf_docx' | 'too_large' };

/**
 * Stores the document an admin sent (by Telegram file_id) for a campaign; the latest file of a name
 * replaces the earlier one. `matches`: it is the notice document the campaign file names.
 */
export async function attachCampaignDocument(
  db: Db,
  input: {
    actorId: number;
    campaignCode: string;
    fileId: string;
    fileUniqueId: string;
    fileName?: string;
    mimeType?: string;
    sizeBytes?: number;
  },
): Promise<AttachDocumentResult> {
  if (!isNoticeDocument({ file_name: input.fileName, mime_type: input.mimeType }))
    return { ok: false, problem: 'not_pdf_docx' };
  if ((input.sizeBytes ?? 0) > NOTICE_DOCUMENT_MAX_BYTES) return { ok: false, problem: 'too_large' };
  const c = await db.campaign.findUnique({ where: { code: input.campaignCode } });
  if (!c || c.status === 'archived') return { ok: false, problem: 'campaign_unknown' };
  const fileName = input.fileName!;
  await db.$transaction(async (tx) => {
    const data = {
      fileId: input.fileId,
      fileUniqueId: input.fileUniqueId,
      mimeType: input.mimeType ?? null,
      sizeBytes: input.sizeBytes ?? null,
      uploadedById: input.actorId,
    };
    const row = await tx.campaignDocument.upsert({
      where: { campaignId_fileName: { campaignId: c.id, fileName } },
      create: { campaignId: c.id, fileName, ...data },
      update: data,
    });
    await audit(tx, {
      actorId: input.actorId,
      action: 'campaign.document',
      entity: 'campaign',
      entityId: c.id,
      after: { documentId: row.id, fileName, sizeBytes: input.sizeBytes ?? null },
    });
  });
  return {
    ok: true,
    campaignCode: c.code,
    fileName,
    matches: c.noticeDocument === fileName,
    expected: c.noticeDocument,
  };
}

// ------------------------------------------------------------------------------------ deadline changes

/**
 * After /deadline moved the nomination deadline (every active contact in scope is told) or the review
 * deadline (every active reviewer): one notice per person and change (`changedAt` is the change).
 * Other fields tell nobody (the opening is re-scheduled by onCampaignChanged).
 */
export async function notifyDeadlineChange(
  db: Db,
  queues: Queues,
  change: {
    campaignId: number;
    field: 'opens' | 'closes' | 'review' | 'payment';
    before: string;
    after: string;
    value: Date;
    changedAt: Date;
  },
  now: Date,
): Promise<number> {
  let people: number[] = [];
  if (change.field === 'closes') {
    people = (await audienceContacts(db, change.campaignId, 'all', null, now)).personIds;
  } else if (change.field === 'review') {
    const rows = await db.roleGrant.findMany({
      where: { role: 'reviewer', revokedAt: null, person: { telegramId: { not: null } } },
      select: { personId: true },
      distinct: ['personId'],
    });
    people = rows.map((r) => r.personId);
  } else return 0;
  const stamp = change.changedAt.getTime();
  return enqueueNotices(
    db,
    queues,
    people.map((personId) => ({
      uniqueKey: `deadline-${change.campaignId}-${change.field}-${stamp}-${personId}`,
      kind: 'deadline_changed',
      personId,
      campaignId: change.campaignId,
      template: 'announce.deadline_moved',
      params: {
        field: `@announce.field_${change.field}`,
        before: change.before,
        after: change.after,
        at: change.value.toISOString(),
      },
    })),
  );
}
