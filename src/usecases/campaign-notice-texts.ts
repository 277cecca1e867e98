import type { Db } from '../adapters/db/client.ts';
import type { I18n, Locale, Params } from '../adapters/i18n.ts';
import { defaultCalendar } from '../domain/calendar/index.ts';
import { formatShanghaiDateTime, shanghaiDateOf } from '../domain/calendar/date.ts';
import type { WorkingCalendar } from '../domain/calendar/working-days.ts';
import { formatYuan } from '../domain/campaign/money.ts';

// The campaign notices (opening, announcement, deadline change) are composed when they are sent, in the
// person's language and from the campaign as it is then (a deadline moved after the opening was queued
// shows the new date). null = the notice is obsolete (campaign archived, nominations closed for an
// opening, announcement gone): it is not sent.

export interface ComposedNotice {
  params: Params;
  /** A document sent after the message (Telegram file_id). */
  document?: { fileId: string; caption: string };
}

export interface ComposeInput {
  kind: string;
  template: string;
  campaignId: number | null;
  announcementId: number | null;
  personId: number | null;
  values: Params;
}

export const CAMPAIGN_NOTICE_KINDS = ['campaign_opened', 'announcement', 'deadline_changed'];

export async function composeCampaignNotice(
  deps: { db: Db; i18n: I18n; now: () => Date; calendar?: WorkingCalendar },
  n: ComposeInput,
  locale: Locale,
): Promise<ComposedNotice | null> {
  if (n.campaignId === null) return null;
  const { db, i18n } = deps;
  const calendar = deps.calendar ?? defaultCalendar;
  const now = deps.now();
  const t = (key: string, p?: Params) => i18n.t(locale, key, p);
  const c = await db.campaign.findUnique({
    where: { id: n.campaignId },
    include: { categories: { orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }] } },
  });
  if (!c || c.status === 'archived') return null;
  const title = locale === 'en' ? c.titleEn : c.titleZh;
  const left = (deadline: Date) =>
    Math.max(0, calendar.workingDaysBetween(shanghaiDateOf(now), shanghaiDateOf(deadline)));
  const deadline = formatShanghaiDateTime(c.nominationClosesAt);

  if (n.kind === 'campaign_opened') {
    if (now.getTime() >= c.nominationClosesAt.getTime()) return null;
    const unions = n.personId
      ? await db.roleGrant.findMany({
          where: { personId: n.personId, role: 'contact', revokedAt: null, union: { active: true } },
          select: { union: { select: { name: true } } },
        })
      : [];
    if (unions.length === 0) return null; // no longer a contact
    const categories = c.categories.map((k) =>
      t(k.quotaPerUnion ? 'announce.category_line_quota' : 'announce.category_line', {
        name: locale === 'en' ? k.nameEn : k.nameZh,
        amount: formatYuan(k.standardAmountFen),
        quota: k.quotaPerUnion ?? 0,
      }),
    );
    let document: ComposedNotice['document'];
    if (c.noticeDocument) {
      const doc = await db.campaignDocument.findUnique({
        where: { campaignId_fileName: { campaignId: c.id, fileName: c.noticeDocument } },
        select: { fileId: true },
      });
      if (doc)
        document = { fileId: doc.fileId, caption: t('announce.document_caption', { campaign: title }) };
    }
    return {
      params: {
        campaign: title,
        organiser: c.organiser,
        unions: unions.map((u) => u.union!.name).join(t('announce.list_separator')),
        categories: categories.join('\n'),
        deadline,
        left: left(c.nominationClosesAt),
        document: document ? t('announce.document_follows') : '',
      },
      ...(document ? { document } : {}),
    };
  }

  if (n.kind === 'announcement') {
    if (n.announcementId === null) return null;
    const a = await db.announcement.findUnique({ where: { id: n.announcementId } });
    if (!a) return null;
    const open = now.getTime() < c.nominationClosesAt.getTime() && now >= c.nominationOpensAt;
    return {
      params: {
        campaign: title,
        text: a.text ?? '',
        deadline,
        left: left(c.nominationClosesAt),
        status: open ? t('announce.chase_open', { deadline, left: left(c.nominationClosesAt) }) : '',
      },
      ...(a.fileId
        ? {
            document: {
              fileId: a.fileId,
              caption: t('announce.document_caption', { campaign: title }),
            },
          }
        : {}),
    };
  }

  if (n.kind === 'deadline_changed') {
    const at = typeof n.values['at'] === 'string' ? new Date(n.values['at']) : null;
    return {
      params: {
        ...n.values,
        campaign: title,
        left: at ? left(at) : 0,
      },
    };
  }
  return null;
}
