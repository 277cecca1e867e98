import { onCampaignChanged } from '../../../usecases/reminders.ts';
import type { Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import type { Document } from 'telegraf/types';
import { formatShanghaiDateTime } from '../../../domain/calendar/date.ts';
import {
  BENEFIT_FORMS,
  type CampaignChange,
  type CampaignProblem,
  formatYuan,
} from '../../../domain/campaign/index.ts';
import {
  type CampaignListItem,
  campaignState,
  listCampaigns,
  loadCampaign,
} from '../../../usecases/campaigns.ts';
import type { Params } from '../../i18n.ts';
import type { BotContext } from '../context.ts';
import { type BotDeps, type Feature, type ShellApi, inBackground } from '../kit.ts';

// /campaigns for staff, and loading a campaign file: an admin sends the YAML file as a document.
// Other documents (spreadsheets...) pass through to the next handler.

export const MAX_CAMPAIGN_FILE_BYTES = 256 * 1024;
const YAML_MIME_TYPES = new Set(['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml']);
/** Telegram messages are limited to 4096 characters; long reports are split at line boundaries. */
const CHUNK_CHARS = 3500;

export function isCampaignFile(doc: Pick<Document, 'file_name' | 'mime_type'>): boolean {
  if (doc.file_name && /\.ya?ml$/i.test(doc.file_name)) return true;
  return doc.mime_type !== undefined && YAML_MIME_TYPES.has(doc.mime_type.toLowerCase());
}

async function replyLines(ctx: BotContext, lines: string[]): Promise<void> {
  let chunk = '';
  for (const line of lines) {
    if (chunk !== '' && chunk.length + line.length + 1 > CHUNK_CHARS) {
      await ctx.reply(chunk);
      chunk = '';
    }
    chunk = chunk === '' ? line : `${chunk}\n${line}`;
  }
  if (chunk.trim() !== '') await ctx.reply(chunk);
}

const kb = (bytes: number) => `${Math.ceil(bytes / 1024)} KB`;

export function campaignsFeature(deps: BotDeps, _shell: ShellApi): Feature {
  const label = (ctx: BotContext, key: string, fallback: string) =>
    deps.i18n.has(key) ? ctx.t(key) : fallback;
  const fieldLabel = (ctx: BotContext, key: string) => label(ctx, `campaign.field.${key}`, key);

  /** `categories[needy_worker].standard_amount` → "类别 needy_worker · 慰问标准". */
  const pathLabel = (ctx: BotContext, path: string) =>
    path
      .split('.')
      .map((seg) => {
        const m = /^(\w+)\[([^\]]+)\]$/.exec(seg);
        if (m?.[1] === 'categories') return ctx.t('campaign.chat.category_ref', { code: m[2]! });
        return fieldLabel(ctx, seg);
      })
      .join(' · ');

  const problemText = (ctx: BotContext, p: CampaignProblem<string>): string => {
    const code = p.code.replace(/^campaign\./, '');
    let key = `campaign.${code}`;
    if (code === 'too_small' || code === 'too_big') {
      const origin = p.params['origin'];
      if (code === 'too_small' && origin === 'string' && Number(p.params['min']) === 1)
        key = 'campaign.too_small_empty';
      else if (origin === 'array' || origin === 'string') key = `campaign.${code}_${origin}`;
    }
    if (!deps.i18n.has(key)) return p.message;
    const params: Params = { ...p.params };
    for (const k of ['expected', 'got'] as const) {
      const v = p.params[k];
      if (p.code === 'campaign.type' && typeof v === 'string') {
        params[k] = label(ctx, `campaign.type_name.${v}`, v);
      }
    }
    for (const k of ['field', 'after'] as const) {
      const v = p.params[k];
      if (typeof v === 'string') params[k] = fieldLabel(ctx, v);
    }
    const where =
      p.path !== '' && p.line !== undefined
        ? ctx.t('campaign.chat.where_path_pos', { path: p.path, line: p.line, col: p.col ?? 1 })
        : p.path !== ''
          ? p.path
          : p.line !== undefined
            ? ctx.t('campaign.chat.where_pos', { line: p.line, col: p.col ?? 1 })
            : ctx.t('campaign.chat.where_file');
    return ctx.t('campaign.chat.problem_line', { where, message: ctx.t(key, params) });
  };

  const valueText = (ctx: BotContext, v: CampaignChange['before']) =>
    v === null || v === ''
      ? ctx.t('campaign.chat.value_empty')
      : typeof v === 'boolean'
        ? ctx.t(v ? 'campaign.chat.value_true' : 'campaign.chat.value_false')
        : String(v);

  const changeText = (ctx: BotContext, c: CampaignChange): string => {
    if (c.kind === 'added') return ctx.t('campaign.chat.change_added', { after: valueText(ctx, c.after) });
    if (c.kind === 'removed')
      return ctx.t('campaign.chat.change_removed', { before: valueText(ctx, c.before) });
    return ctx.t('campaign.chat.change_changed', {
      field: `${pathLabel(ctx, c.path)} (${c.path})`,
      before: valueText(ctx, c.before),
      after: valueText(ctx, c.after),
    });
  };

  const campaignBlock = (ctx: BotContext, c: CampaignListItem): string[] => {
    const en = ctx.locale === 'en';
    const forms = (codes: readonly string[]) =>
      codes
        .map((code) => {
          const f = BENEFIT_FORMS.find((b) => b.code === code);
          return f ? (en ? f.en : f.zh) : code;
        })
        .join(ctx.t('campaign.chat.list_separator'));
    const lines = [
      ctx.t('campaign.chat.item', {
        title: en ? c.title.en : c.title.zh,
        code: c.code,
        state: ctx.t(`campaign.state.${c.state}`),
        opens: formatShanghaiDateTime(c.timeline.nominationOpens),
        closes: formatShanghaiDateTime(c.timeline.nominationCloses),
        review: formatShanghaiDateTime(c.timeline.reviewDeadline),
        payment: c.timeline.targetPaymentDate,
        budget: formatYuan(c.budget.totalFen),
        unions: formatYuan(c.budget.allocatedToUnionsFen),
      }),
      ctx.t('campaign.chat.categories_title'),
      ...c.categories.map((k) =>
        ctx.t('campaign.chat.category_line', {
          name: en ? k.name.en : k.name.zh,
          amount: formatYuan(k.standardAmountFen),
          forms: forms(k.benefitForms),
        }),
      ),
    ];
    const counts = Object.entries(c.nominations);
    lines.push(
      c.nominationsTotal === 0
        ? ctx.t('campaign.chat.nominations_none')
        : ctx.t('campaign.chat.nominations', {
            total: c.nominationsTotal,
            details: counts
              .map(([status, count]) =>
                ctx.t('campaign.chat.count_item', {
                  label: ctx.t(`campaign.nomination_status.${status}`),
                  count,
                }),
              )
              .join(ctx.t('campaign.chat.list_separator')),
          }),
    );
    return lines;
  };

  const onCampaignFile = async (ctx: BotContext, doc: Document) => {
    if (!ctx.who.access.roles.has('admin')) {
      deps.metrics.inc('warmth_commands_refused_total', 'Commands refused for lack of a role', {
        command: 'campaign_file',
      });
      await ctx.reply(ctx.t('errors.forbidden'));
      return;
    }
    const max = kb(MAX_CAMPAIGN_FILE_BYTES);
    if ((doc.file_size ?? 0) > MAX_CAMPAIGN_FILE_BYTES) {
      await ctx.reply(ctx.t('campaign.chat.file_too_large', { size: kb(doc.file_size ?? 0), max }));
      return;
    }
    const link = await ctx.telegram.getFileLink(doc.file_id);
    const res = await fetch(link);
    if (!res.ok) throw new Error(`campaign file download failed: HTTP ${res.status}`);
    const bytes = new Uint8Array(await res.arrayBuffer());
    if (bytes.byteLength > MAX_CAMPAIGN_FILE_BYTES) {
      await ctx.reply(ctx.t('campaign.chat.file_too_large', { size: kb(bytes.byteLength), max }));
      return;
    }
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes);
    } catch {
      await ctx.reply(ctx.t('campaign.chat.file_not_text'));
      return;
    }
    if (text.includes('\u0000')) {
      await ctx.reply(ctx.t('campaign.chat.file_not_text'));
      return;
    }
    const fileName = doc.file_name ?? 'campaign.yaml';
    const r = await loadCampaign(deps.db, {
      actorId: ctx.who.id,
      text,
      sourceName: fileName,
      now: deps.now(),
    });
    if (!r.ok) {
      deps.logger.info(
        { requestId: ctx.requestId, file: fileName, problems: r.problems.length },
        'campaign file refused',
      );
      await replyLines(ctx, [
        ctx.t('campaign.chat.problems_title', { file: fileName, count: r.problems.length }),
        ...r.problems.map((p) => problemText(ctx, p)),
      ]);
      return;
    }
    const c = r.campaign;
    if (r.outcome !== 'unchanged') {
      inBackground(deps, 'reminders after campaign load', () =>
        onCampaignChanged(deps.db, deps.queues, c.id, deps.now()),
      );
    }
    const title = ctx.locale === 'en' ? c.title.en : c.title.zh;
    const lines: string[] = [];
    if (r.outcome === 'created') {
      lines.push(
        ctx.t('campaign.chat.created', {
          title,
          code: c.code,
          categories: c.categories.length,
          state: ctx.t(`campaign.state.${campaignState(c, deps.now())}`),
        }),
      );
    } else if (r.outcome === 'updated') {
      lines.push(ctx.t('campaign.chat.updated', { title, code: c.code, count: r.changes.length }));
      lines.push(...r.changes.map((ch) => changeText(ctx, ch)));
    } else lines.push(ctx.t('campaign.chat.unchanged', { title, code: c.code }));
    if (r.warnings.length > 0) {
      lines.push('', ctx.t('campaign.chat.warnings_title'), ...r.warnings.map((w) => problemText(ctx, w)));
    }
    await replyLines(ctx, lines);
  };

  return {
    commands: [
      {
        name: 'campaigns',
        access: ['admin', 'reviewer', 'finance'],
        handler: async (ctx) => {
          const list = await listCampaigns(deps.db, deps.now());
          const isAdmin = ctx.who.access.roles.has('admin');
          if (list.length === 0) {
            const lines = [ctx.t('campaign.chat.list_empty')];
            if (isAdmin) lines.push(ctx.t('campaign.chat.load_hint'));
            return ctx.reply(lines.join('\n'));
          }
          const lines = [ctx.t('campaign.chat.list_title', { count: list.length })];
          for (const c of list) lines.push('', ...campaignBlock(ctx, c));
          if (isAdmin) lines.push('', ctx.t('campaign.chat.load_hint'));
          return replyLines(ctx, lines);
        },
      },
    ],
    install: (bot: Telegraf<BotContext>) => {
      bot.on(message('document'), async (ctx, next) => {
        const doc = ctx.message.document;
        if (!isCampaignFile(doc)) return next();
        await onCampaignFile(ctx, doc);
      });
    },
  };
}
