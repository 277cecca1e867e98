import { PassThrough } from 'node:stream';
import type { Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import { onCampaignChanged } from '../../../usecases/reminders.ts';
import { markEntered, type MarkResult, notEnteredIds, parseIdList } from '../../../usecases/report/entry.ts';
import {
  entryStatusFigures,
  findCampaignRef,
  hasEntryToMake,
  formatRate,
  liveCampaignRefs,
} from '../../../usecases/report/figures.ts';
import { ledgerAccess, parseLedgerFilters } from '../../../usecases/report/ledger.ts';
import { campaignLedgerAccess } from '../../../usecases/audit-trail.ts';
import { parseUpload } from '../../files/safe-upload.ts';
import type { BotContext } from '../context.ts';
import type { BotDeps, Feature } from '../kit.ts';
import { requestStaffJob } from '../staff-job-request.ts';

// Staff reporting: /report (summary message, chart, .docx draft of the evaluation report), /export (the
// ledger .xlsx; full values for admins and finance, masked for reviewers, every export audit-logged),
// /entry_list (paid records not yet entered into the provincial system, admins and finance only),
// /entry_mark (by id, or "all"), /entry_status; and a returned entry list (.xlsx sent by an admin or
// finance staff member) marks the rows ticked "是". Every figure comes from `campaignFigures`.

const staff = ['admin', 'reviewer', 'finance'] as const;
const fullAccess = ['admin', 'finance'] as const;
/** Staff and auditors (审计人员: read only, every read audited). */
const readers = [...staff, 'auditor'] as const;
const MAX_RETURNED_LIST_BYTES = 20 * 1024 * 1024;

/**
 * Streams a generated workbook straight into the upload: nothing is written to disk, so a crash
 * mid-export leaves no copy of the ledger behind (issue 12, finding 11). A failed writer aborts the
 * upload; a failed upload stops the writer.
 */
export async function sendStreamed(
  ctx: BotContext,
  filename: string,
  caption: string,
  write: (out: PassThrough) => Promise<unknown>,
) {
  const out = new PassThrough();
  const writing = write(out).then(
    () => {
      if (!out.writableEnded) out.end();
    },
    (err: unknown) => {
      out.destroy(err instanceof Error ? err : new Error(String(err)));
      throw err;
    },
  );
  const sending = ctx.replyWithDocument({ source: out, filename }, { caption }).catch((err: unknown) => {
    out.destroy();
    throw err;
  });
  const [w, s] = await Promise.allSettled([writing, sending]);
  if (w.status === 'rejected') throw w.reason;
  if (s.status === 'rejected') throw s.reason;
}

export function reportFeature(deps: BotDeps): Feature {
  const en = (ctx: BotContext) => ctx.locale === 'en';
  const title = (ctx: BotContext, f: { titleZh: string; titleEn: string }) =>
    en(ctx) ? f.titleEn : f.titleZh;

  /** The campaign named by `ref`, or the only campaign that is not archived; null after replying. */
  const campaignArg = async (ctx: BotContext, ref: string | undefined, usageKey: string) => {
    if (ref) {
      const c = await findCampaignRef(deps.db, ref);
      if (c) return c;
      await ctx.reply(ctx.t('report.campaign_unknown', { code: ref }));
      return null;
    }
    const live = await liveCampaignRefs(deps.db);
    if (live.length === 1) return live[0]!;
    await ctx.reply(
      `${ctx.t(usageKey)}\n${ctx.t('report.campaign_codes', { codes: live.map((c) => c.code).join(', ') || '-' })}`,
    );
    return null;
  };

  const report = async (ctx: BotContext, args: string) => {
    const c = await campaignArg(ctx, args.split(/\s+/).filter(Boolean)[0], 'report.usage');
    if (!c) return;
    // The figures of a whole campaign, the chart and the .docx are built in a worker (staff job): one
    // progress message here, then the summary, the chart and the file.
    await requestStaffJob(deps, ctx, {
      kind: 'report',
      params: { campaignId: c.id },
      activeKey: `report:${ctx.who.id}:${c.id}`,
    });
  };

  const exportCmd = async (ctx: BotContext, args: string) => {
    if (!ledgerAccess(ctx.who.access.roles)) return ctx.reply(ctx.t('errors.forbidden'));
    const [ref, ...tokens] = args.split(/\s+/).filter(Boolean);
    const c = await campaignArg(ctx, ref, 'ledger.usage');
    if (!c) return;
    // Auditors: masked unless the campaign file allows them full values (domain/roles ledgerAccess).
    const access = (await campaignLedgerAccess(deps.db, ctx.who.access.roles, c.id))!;
    const parsed = await parseLedgerFilters(deps.db, c.id, ref ? tokens : []);
    if (!parsed.ok)
      return ctx.reply(ctx.t(`ledger.filter_${parsed.problem.code}`, { value: parsed.problem.value }));
    // The export runs in a worker (staff job): one progress message here, then the file.
    await requestStaffJob(deps, ctx, {
      kind: 'ledger_export',
      params: { campaignId: c.id, access, filters: { ...parsed.filters } },
      activeKey: `ledger_export:${ctx.who.id}:${c.id}`,
    });
  };

  const entryList = async (ctx: BotContext, args: string) => {
    const c = await campaignArg(ctx, args.split(/\s+/).filter(Boolean)[0], 'entry.list_usage');
    if (!c) return;
    // One EXISTS here; the figures for the file's caption are computed in the job.
    if (!(await hasEntryToMake(deps.db, c.id))) {
      const { campaign } = await entryStatusFigures(deps.db, c.id, deps.now());
      return ctx.reply(ctx.t('entry.list_empty', { title: title(ctx, campaign) }));
    }
    await requestStaffJob(deps, ctx, {
      kind: 'entry_list',
      params: { campaignId: c.id },
      activeKey: `entry_list:${ctx.who.id}:${c.id}`,
    });
  };

  const reportMarked = async (ctx: BotContext, r: MarkResult, extra: string[] = []) => {
    for (const campaignId of r.campaignIds) {
      await onCampaignChanged(deps.db, deps.queues, campaignId, deps.now()).catch((err: unknown) =>
        deps.logger.warn({ err, campaignId }, 'reminder re-sync after provincial entry failed'),
      );
    }
    const ids = (list: number[]) =>
      list.length > 20 ? `${list.slice(0, 20).join(', ')} …` : list.join(', ');
    const lines = [ctx.t('entry.marked', { count: r.marked.length })];
    if (r.alreadyEntered.length > 0)
      lines.push(ctx.t('entry.already', { count: r.alreadyEntered.length, ids: ids(r.alreadyEntered) }));
    if (r.notPaid.length > 0)
      lines.push(ctx.t('entry.not_paid', { count: r.notPaid.length, ids: ids(r.notPaid) }));
    if (r.unknown.length > 0)
      lines.push(ctx.t('entry.unknown', { count: r.unknown.length, ids: ids(r.unknown) }));
    await ctx.reply([...lines, ...extra].join('\n'));
  };

  const entryMark = async (ctx: BotContext, args: string) => {
    const tokens = args.split(/\s+/).filter(Boolean);
    if (tokens.length === 0) return ctx.reply(ctx.t('entry.mark_usage'));
    let campaign: { id: number; code: string } | null = null;
    if (!/^[\d,，、\-–~]+$/.test(tokens[0]!)) {
      campaign = await findCampaignRef(deps.db, tokens[0]!);
      if (!campaign) return ctx.reply(ctx.t('report.campaign_unknown', { code: tokens[0]! }));
      tokens.shift();
    }
    let ids: number[] | null;
    if (campaign && tokens.length === 1 && /^(all|全部)$/i.test(tokens[0]!)) {
      ids = await notEnteredIds(deps.db, campaign.id);
      if (ids.length === 0) return ctx.reply(ctx.t('entry.mark_none', { code: campaign.code }));
    } else ids = parseIdList(tokens.join(' '));
    if (!ids || ids.length === 0) return ctx.reply(ctx.t('entry.mark_usage'));
    const r = await markEntered(deps.db, {
      actorId: ctx.who.id,
      nominationIds: ids,
      now: deps.now(),
      ...(campaign ? { campaignId: campaign.id } : {}),
    });
    return reportMarked(ctx, r);
  };

  const entryStatus = async (ctx: BotContext, args: string) => {
    const ref = args.split(/\s+/).filter(Boolean)[0];
    const campaigns = ref
      ? [await findCampaignRef(deps.db, ref)].filter((c) => c !== null)
      : await liveCampaignRefs(deps.db);
    if (campaigns.length === 0)
      return ctx.reply(ref ? ctx.t('report.campaign_unknown', { code: ref }) : ctx.t('entry.status_empty'));
    const blocks: string[] = [];
    for (const c of campaigns) {
      const f = await entryStatusFigures(deps.db, c.id, deps.now());
      const e = f.entry;
      blocks.push(
        ctx.t('entry.status', {
          title: title(ctx, f.campaign),
          code: f.campaign.code,
          days: e.workingDays,
          required: e.required,
          entered: e.entered,
          on_time: e.enteredOnTime,
          late: e.enteredLate,
          due: e.due,
          overdue: e.overdue,
          next: e.nextDeadline ?? '-',
          rate: formatRate(e.onTimeRate),
        }),
      );
    }
    return ctx.reply(blocks.join('\n\n'));
  };

  return {
    commands: [
      { name: 'report', access: readers, readOnly: true, handler: report },
      { name: 'export', access: readers, readOnly: true, handler: exportCmd },
      { name: 'entry_status', access: staff, handler: entryStatus },
      { name: 'entry_list', access: fullAccess, handler: entryList },
      { name: 'entry_mark', access: fullAccess, handler: entryMark },
    ],
    install: (bot: Telegraf<BotContext>) => {
      // A returned entry list: only from admins / finance, only .xlsx whose header is our entry list;
      // anything else passes on (spreadsheet uploads of contacts, campaign files...).
      bot.on(message('document'), async (ctx, next) => {
        const doc = ctx.message.document;
        const roles = ctx.who.access.roles;
        if (!(roles.has('admin') || roles.has('finance')) || !/\.xlsx$/i.test(doc.file_name ?? ''))
          return next();
        if ((doc.file_size ?? 0) > MAX_RETURNED_LIST_BYTES) return next();
        const res = await fetch(await ctx.telegram.getFileLink(doc.file_id));
        if (!res.ok) return next();
        const safe = await parseUpload('entry_list', new Uint8Array(await res.arrayBuffer()), 'list.xlsx');
        if (!safe.ok)
          return safe.refused === 'unreadable' ? next() : ctx.reply(ctx.t(`upload_refused.${safe.refused}`));
        const parsed = safe.value;
        if (!parsed.ok) return next();
        if (parsed.entered.length === 0)
          return ctx.reply(ctx.t('entry.returned_none', { rows: parsed.notMarked }));
        const r = await markEntered(deps.db, {
          actorId: ctx.who.id,
          nominationIds: parsed.entered,
          now: deps.now(),
        });
        const extra = [
          ...(parsed.notMarked > 0 ? [ctx.t('entry.returned_not_marked', { count: parsed.notMarked })] : []),
          ...(parsed.badIds > 0 ? [ctx.t('entry.returned_bad_ids', { count: parsed.badIds })] : []),
        ];
        return reportMarked(ctx, r, extra);
      });
    },
  };
}
