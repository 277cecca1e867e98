import type { Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import { formatYuan, yuanToFen } from '../../../domain/campaign/money.ts';
import {
  allocationForContact,
  recordAllocationReturn,
  reportAllocationUse,
  viewAllocations,
} from '../../../usecases/allocations.ts';
import { onAllocationReported } from '../../../usecases/reminders.ts';
import { findCampaignRef } from '../../../usecases/report/figures.ts';
import { parseUpload } from '../../files/safe-upload.ts';
import type { BotContext } from '../context.ts';
import { type BotDeps, type Feature, inBackground } from '../kit.ts';

// Allocations to grassroots unions (issue 15): a union's contact reports how its allocation was spent
// (/allocation_report, then the photo or scan of the signed list, then the spreadsheet of recipients);
// staff see allocated vs reported vs returned (/allocations, auditors too) and record returns
// (/allocation_return). The rules are in usecases/allocations.ts.

const PENDING_TTL = 3600;
const MAX_BYTES = 5 * 1024 * 1024;
const STAFF_READ = ['admin', 'reviewer', 'finance', 'auditor'] as const;
const MONEY = ['admin', 'finance'] as const;

interface Pending {
  campaignId: number;
  unionId: number;
  code: string;
  evidenceFileId?: string;
}

export function allocationsFeature(deps: BotDeps): Feature {
  const key = (personId: number) => `${deps.queues.prefix}:allocation:${personId}`;
  const pendingOf = async (ctx: BotContext): Promise<Pending | null> => {
    if (!ctx.who.access.roles.has('contact')) return null;
    const raw = await deps.redis.get(key(ctx.who.id));
    return raw ? (JSON.parse(raw) as Pending) : null;
  };
  const save = (ctx: BotContext, p: Pending) =>
    deps.redis.set(key(ctx.who.id), JSON.stringify(p), 'EX', PENDING_TTL);

  const start = async (ctx: BotContext, args: string) => {
    const ref = args.trim().split(/\s+/)[0];
    if (!ref) return ctx.reply(ctx.t('allocations.report_usage'));
    const c = await findCampaignRef(deps.db, ref);
    if (!c) return ctx.reply(ctx.t('report.campaign_unknown', { code: ref }));
    const a = await allocationForContact(deps.db, c.id, ctx.who.access.unionIds);
    if (!a) return ctx.reply(ctx.t('allocations.none', { code: c.code }));
    await save(ctx, { campaignId: c.id, unionId: a.unionId, code: c.code });
    return ctx.reply(
      ctx.t('allocations.send_evidence', {
        union: a.unionName,
        amount: formatYuan(a.allocatedFen),
        code: c.code,
      }),
    );
  };

  const list = async (ctx: BotContext, args: string) => {
    const ref = args.trim().split(/\s+/)[0];
    if (!ref) return ctx.reply(ctx.t('allocations.list_usage'));
    const c = await findCampaignRef(deps.db, ref);
    if (!c) return ctx.reply(ctx.t('report.campaign_unknown', { code: ref }));
    const lines = await viewAllocations(deps.db, { campaignId: c.id, actorId: ctx.who.id });
    if (lines.length === 0) return ctx.reply(ctx.t('allocations.list_empty', { code: c.code }));
    return ctx.reply(
      [
        ctx.t('allocations.list_title', { code: c.code }),
        ...lines.map((l) =>
          ctx.t(l.reported ? 'allocations.list_line' : 'allocations.list_line_unreported', {
            union: l.unionName,
            id: l.unionId,
            allocated: formatYuan(l.allocatedFen),
            reported: formatYuan(l.reportedFen),
            recipients: l.recipients,
            returned: formatYuan(l.returnedFen),
            open: formatYuan(l.unaccountedFen),
          }),
        ),
      ].join('\n'),
    );
  };

  const giveBack = async (ctx: BotContext, args: string) => {
    const [ref, unionRaw, amountRaw] = args.trim().split(/\s+/);
    const amount = amountRaw ? yuanToFen(amountRaw) : null;
    if (!ref || !unionRaw || !/^\d{1,9}$/.test(unionRaw) || !amount?.ok)
      return ctx.reply(ctx.t('allocations.return_usage'));
    const c = await findCampaignRef(deps.db, ref);
    if (!c) return ctx.reply(ctx.t('report.campaign_unknown', { code: ref }));
    const ok = await recordAllocationReturn(deps.db, {
      campaignId: c.id,
      unionId: Number(unionRaw),
      returnedFen: amount.fen,
      actorId: ctx.who.id,
    });
    return ctx.reply(
      ok
        ? ctx.t('allocations.return_done', { amount: formatYuan(amount.fen) })
        : ctx.t('allocations.return_refused'),
    );
  };

  return {
    commands: [
      { name: 'allocation_report', access: ['contact'], handler: start },
      { name: 'allocations', access: STAFF_READ, readOnly: true, handler: list },
      { name: 'allocation_return', access: MONEY, handler: giveBack },
    ],
    install: (bot: Telegraf<BotContext>) => {
      bot.on(message('photo'), async (ctx, next) => {
        const p = await pendingOf(ctx);
        if (!p) return next();
        await save(ctx, { ...p, evidenceFileId: ctx.message.photo.at(-1)!.file_id });
        return ctx.reply(ctx.t('allocations.send_sheet'));
      });
      bot.on(message('document'), async (ctx, next) => {
        const p = await pendingOf(ctx);
        if (!p) return next();
        const doc = ctx.message.document;
        if (!p.evidenceFileId && /^image\/|pdf/.test(doc.mime_type ?? '')) {
          await save(ctx, { ...p, evidenceFileId: doc.file_id });
          return ctx.reply(ctx.t('allocations.send_sheet'));
        }
        if (!p.evidenceFileId) return ctx.reply(ctx.t('allocations.evidence_first'));
        if ((doc.file_size ?? 0) > MAX_BYTES) return ctx.reply(ctx.t('allocations.sheet_unreadable'));
        const res = await fetch(await ctx.telegram.getFileLink(doc.file_id));
        if (!res.ok) return ctx.reply(ctx.t('allocations.sheet_unreadable'));
        const safe = await parseUpload(
          'allocation_sheet',
          new Uint8Array(await res.arrayBuffer()),
          doc.file_name ?? 'list.xlsx',
        );
        if (!safe.ok) return ctx.reply(ctx.t(`upload_refused.${safe.refused}`));
        if (!safe.value.ok) return ctx.reply(ctx.t('allocations.sheet_unreadable'));
        const parsed = safe.value;
        // All or nothing: rows the sheet could not even read are listed first, nothing is stored.
        if (parsed.problems.length > 0)
          return ctx.reply(
            [
              ctx.t('allocations.report_refused', { count: parsed.problems.length }),
              ...parsed.problems.slice(0, 15).map((x) =>
                ctx.t('allocations.problem_line', {
                  line: x.line,
                  problem: ctx.t(`allocations.problem.${x.code}`),
                }),
              ),
            ].join('\n'),
          );
        const r = await reportAllocationUse(deps.db, deps.cipher, {
          campaignId: p.campaignId,
          unionId: p.unionId,
          actorId: ctx.who.id,
          rows: parsed.rows,
          evidenceFileId: p.evidenceFileId,
          now: deps.now(),
        });
        if ('noAllocation' in r) return ctx.reply(ctx.t('allocations.none', { code: p.code }));
        if (r.ok) {
          await deps.redis.del(key(ctx.who.id));
          // Reported: the union's contacts are no longer reminded of the allocation report.
          inBackground(deps, 'reminders after an allocation report', () =>
            onAllocationReported(deps.db, deps.queues, p.campaignId, deps.now()),
          );
          return ctx.reply(
            ctx.t('allocations.report_done', {
              recipients: r.recipients,
              reported: formatYuan(r.reportedFen),
              allocated: formatYuan(r.allocatedFen),
            }),
          );
        }
        return ctx.reply(
          [
            ctx.t('allocations.report_refused', { count: r.problems.length }),
            ...r.problems.slice(0, 15).map((x) =>
              ctx.t('allocations.problem_line', {
                line: x.line,
                problem: ctx.t(`allocations.problem.${x.code}`, {
                  ...x.params,
                  ...(typeof x.params['reportedFen'] === 'number'
                    ? { reported: formatYuan(x.params['reportedFen']) }
                    : {}),
                  ...(typeof x.params['allocatedFen'] === 'number'
                    ? { allocated: formatYuan(x.params['allocatedFen']) }
                    : {}),
                }),
              }),
            ),
          ].join('\n'),
        );
      });
    },
  };
}
