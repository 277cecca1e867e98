import { type ChainProblem, formatChainHead, parseChainHead } from '../../../domain/audit/chain.ts';
import { exportAuditTrail, parseAuditRange, verifyAuditTrailFor } from '../../../usecases/audit-trail.ts';
import { findCampaignRef, liveCampaignRefs } from '../../../usecases/report/figures.ts';
import { writeAuditTrailXlsx } from '../../files/audit-xlsx.ts';
import type { BotContext } from '../context.ts';
import type { BotDeps, Feature } from '../kit.ts';
import { sendStreamed } from './report.ts';

// Auditors (审计人员) and admins: /audit <campaign> [from] [to] sends the campaign's audit trail as a
// .xlsx (personal values masked); /audit_verify [head] recomputes the hash chain and names the first
// row changed, deleted or inserted out of order. Both reads are recorded in the trail.

const auditors = ['admin', 'auditor'] as const;

function problemText(ctx: BotContext, p: ChainProblem): string {
  const s = (v: bigint | null) => (v === null ? '-' : String(v));
  switch (p.kind) {
    case 'changed':
      return ctx.t('auditor.problem_changed', { row: s(p.rowId), seq: s(p.seq) });
    case 'deleted':
      return ctx.t('auditor.problem_deleted', {
        seq: s(p.seq),
        after: s(p.afterRowId),
        before: s(p.beforeRowId),
      });
    case 'inserted':
      return p.seq === null
        ? ctx.t('auditor.problem_outside', { row: s(p.rowId) })
        : ctx.t('auditor.problem_inserted', { row: s(p.rowId), seq: s(p.seq), previous: s(p.previousRowId) });
    case 'head_mismatch':
      return ctx.t('auditor.problem_head', { seq: s(p.seq) });
  }
}

export function auditFeature(deps: BotDeps): Feature {
  const audit = async (ctx: BotContext, args: string) => {
    const [ref, ...dates] = args.split(/\s+/).filter(Boolean);
    const live = ref ? [] : await liveCampaignRefs(deps.db);
    const c = ref ? await findCampaignRef(deps.db, ref) : live.length === 1 ? live[0]! : null;
    if (!c) {
      if (ref) return ctx.reply(ctx.t('report.campaign_unknown', { code: ref }));
      return ctx.reply(
        `${ctx.t('auditor.audit_usage')}\n${ctx.t('report.campaign_codes', { codes: live.map((x) => x.code).join(', ') || '-' })}`,
      );
    }
    const range = parseAuditRange(dates);
    if (!range) return ctx.reply(ctx.t('auditor.audit_usage'));
    await ctx.sendChatAction('upload_document');
    let rows = 0;
    await sendStreamed(
      ctx,
      ctx.t('auditor.audit_file', { code: c.code }),
      ctx.t('auditor.audit_caption', { code: c.code, from: dates[0] ?? '-', to: dates[1] ?? '-' }),
      async (out) => {
        rows = await exportAuditTrail(deps.db, {
          campaignId: c.id,
          ...range,
          actorId: ctx.who.id,
          sink: (pages, head) =>
            writeAuditTrailXlsx(out, pages, {
              locale: ctx.locale,
              title: ctx.t('auditor.audit_sheet_title', { code: c.code }),
              head,
            }),
        });
      },
    );
    deps.logger.info({ requestId: ctx.requestId, campaignId: c.id, rows }, 'audit trail exported');
  };

  const verify = async (ctx: BotContext, args: string) => {
    const held = args.trim() ? parseChainHead(args) : undefined;
    if (args.trim() && !held) return ctx.reply(ctx.t('auditor.verify_usage'));
    await ctx.sendChatAction('typing');
    const v = await verifyAuditTrailFor(deps.db, { actorId: ctx.who.id, ...(held ? { held } : {}) });
    if (v.ok)
      return ctx.reply(
        [
          ctx.t('auditor.verify_ok', { rows: v.rows, head: formatChainHead(v.head) }),
          ...(held ? [ctx.t('auditor.verify_held_ok', { head: formatChainHead(held) })] : []),
        ].join('\n'),
      );
    return ctx.reply(
      [
        ctx.t('auditor.verify_broken'),
        problemText(ctx, v.problem!),
        ctx.t('auditor.verify_broken_hint'),
      ].join('\n'),
    );
  };

  return {
    commands: [
      { name: 'audit', access: auditors, readOnly: true, handler: audit },
      { name: 'audit_verify', access: auditors, readOnly: true, handler: verify },
    ],
  };
}
