import { ADMISSION_FLAGS } from '../../../domain/nomination/admission.ts';
import type { Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import type { Document } from 'telegraf/types';
import { formatYuan } from '../../../domain/campaign/money.ts';
import { DomainError } from '../../../domain/errors.ts';
import { HARDSHIP_CAUSES } from '../../../domain/identity/hardship.ts';
import { columnsFor, requiredColumnsFor, type SheetColumn } from '../../../domain/nomination/columns.ts';
import { cancelImport } from '../../../usecases/nominations/cancel-import.ts';
import { checkImport, importTarget } from '../../../usecases/nominations/check-import.ts';
import { RowFeed } from '../../../usecases/nominations/row-feed.ts';
import { type ImportIssue, LONG_FILE_BYTES } from '../../../usecases/nominations/validate-import.ts';
import { type NominationDeps, openCampaigns, toCategoryInfo } from '../../../usecases/nominations/shared.ts';
import { unionsByIds } from '../../../usecases/unions.ts';
import {
  buildCheckedFile,
  buildTemplate,
  columnTitle,
  MAX_SHEET_BYTES,
  MAX_SHEET_ROWS,
  type SheetError,
  type SheetRow,
} from '../../files/nomination-sheet.ts';
import { parseUpload } from '../../files/safe-upload.ts';
import type { Params } from '../../i18n.ts';
import type { BotContext } from '../context.ts';
import { type BotDeps, button, type Feature, type ShellApi } from '../kit.ts';
import { requestStaffJob } from '../staff-job-request.ts';

// Spreadsheet upload for contacts: /template sends the .xlsx for a chosen campaign and category; a filled
// .xlsx / .csv sent back is checked row by row (same rules as the dialog), the contact gets a summary and
// the file with a problem column, valid rows are held as drafts of a batch until [Submit] or [Cancel].
// Which campaign / category a file is for: the last /template choice, else asked with buttons.

export const MAX_UPLOAD_BYTES = MAX_SHEET_BYTES;
const SHEET_EXT = /\.(xlsx|xlsm|xls|csv|txt)$/i;
const SHEET_MIME = /spreadsheet|excel|csv/i;
const TARGET_TTL_SECONDS = 7 * 24 * 3600;
const PENDING_TTL_SECONDS = 24 * 3600;
const SHOWN_PROBLEM_ROWS = 5;
/** Files of at least this many rows get a progress message while they are checked. */
const PROGRESS_MIN_ROWS = 2000;
const PROGRESS_EVERY_MS = 1500;
const FLAG_WARNINGS = new Set<string>(ADMISSION_FLAGS);

interface Target {
  unionId: number;
  campaignId: number;
  categoryId: number;
}
interface PendingFile {
  fileId: string;
  fileName: string;
}
type Purpose = 't' | 'f';

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export function uploadFeature(deps: BotDeps, _shell: ShellApi): Feature {
  const nd: NominationDeps = { db: deps.db, cipher: deps.cipher, now: deps.now };
  const targetKey = (personId: number) => `${deps.queues.prefix}:upload:target:${personId}`;
  const pendingKey = (personId: number) => `${deps.queues.prefix}:upload:file:${personId}`;
  const en = (ctx: BotContext) => ctx.locale === 'en';

  const readJson = async <T>(key: string): Promise<T | undefined> => {
    const raw = await deps.redis.get(key);
    return raw ? (JSON.parse(raw) as T) : undefined;
  };

  const errorText = (ctx: BotContext, err: DomainError) => {
    const key = deps.i18n.has(`upload.errors.${err.code}`)
      ? `upload.errors.${err.code}`
      : `errors.${err.code}`;
    return ctx.t(key, err.params);
  };

  const sheetErrorText = (ctx: BotContext, e: SheetError): string => {
    switch (e.code) {
      case 'wrong_type':
        return e.params.ext === 'xls'
          ? ctx.t('upload.wrong_type_xls')
          : ctx.t('upload.wrong_type', { ext: e.params.ext === '?' ? '?' : `.${e.params.ext}` });
      case 'missing_columns':
        return e.params.missing.length === 0
          ? ctx.t('upload.no_columns')
          : ctx.t('upload.missing_columns', {
              columns: e.params.missing
                .map((c) => `“${columnTitle(c, ctx.locale)}”`)
                .join(en(ctx) ? ', ' : '、'),
            });
      case 'duplicate_column':
        return ctx.t('upload.duplicate_column', { column: columnTitle(e.params.column, ctx.locale) });
      case 'too_many_rows':
        return ctx.t('upload.too_many_rows', { max: e.params.max });
      default:
        return ctx.t(`upload.${e.code}`);
    }
  };

  const causeName = (ctx: BotContext, code: string | number | undefined) => {
    const c = HARDSHIP_CAUSES.find((x) => x.code === code);
    return c ? (en(ctx) ? c.en : c.zh) : String(code ?? '');
  };

  /** One problem or note of a row, in the user's language. */
  const issueText = (ctx: BotContext, issue: ImportIssue): string => {
    const params: Params = { ...issue.params };
    if (issue.code.includes('.')) {
      if (issue.code === 'hardship.duplicate_cause' || issue.code === 'hardship.unknown_code')
        params['code'] = causeName(ctx, issue.params['code']);
      const text = ctx.t(`validation.${issue.code}`, params);
      return issue.column ? `${columnTitle(issue.column, ctx.locale)}${en(ctx) ? ': ' : '：'}${text}` : text;
    }
    if (FLAG_WARNINGS.has(issue.code)) return ctx.t(`flags.${issue.code}`);
    const column = issue.params['column'];
    if (typeof column === 'string') params['column'] = columnTitle(column as SheetColumn, ctx.locale);
    if (typeof issue.params['status'] === 'string')
      params['status'] = ctx.t(`status.${issue.params['status']}`);
    return ctx.t(`upload.row.${issue.code}`, params);
  };

  const joinIssues = (ctx: BotContext, issues: readonly ImportIssue[]) =>
    issues.map((i) => issueText(ctx, i).replace(/[。.]$/u, '')).join(ctx.t('upload.list_separator'));

  // ------------------------------------------------------------ choosing union / campaign / category

  const choose = async (
    ctx: BotContext,
    purpose: Purpose,
    sel: { unionId?: number; campaignId?: number },
  ) => {
    const unionIds = ctx.who.access.unionIds;
    if (unionIds.length === 0) return ctx.reply(ctx.t('upload.no_union'));
    if (sel.unionId === undefined && unionIds.length === 1) sel.unionId = unionIds[0]!;
    if (sel.unionId === undefined) {
      const unions = await unionsByIds(deps.db, unionIds);
      return ctx.reply(ctx.t('upload.pick_union'), {
        reply_markup: {
          inline_keyboard: unions.map((u) => [button(deps, ctx, u.name, 'up_u', purpose, u.id)]),
        },
      });
    }
    const open = await openCampaigns(deps.db, deps.now());
    if (open.length === 0) return ctx.reply(ctx.t('upload.no_open_campaign'));
    if (sel.campaignId === undefined && open.length === 1) sel.campaignId = open[0]!.id;
    if (sel.campaignId === undefined) {
      return ctx.reply(ctx.t('upload.pick_campaign'), {
        reply_markup: {
          inline_keyboard: open.map((c) => [
            button(deps, ctx, en(ctx) ? c.titleEn : c.titleZh, 'up_c', purpose, sel.unionId!, c.id),
          ]),
        },
      });
    }
    const campaign = open.find((c) => c.id === sel.campaignId);
    if (!campaign) return ctx.reply(ctx.t('upload.no_open_campaign'));
    if (campaign.categories.length === 1) {
      return finish(ctx, purpose, {
        unionId: sel.unionId,
        campaignId: campaign.id,
        categoryId: campaign.categories[0]!.id,
      });
    }
    return ctx.reply(
      ctx.t('upload.pick_category', { campaign: en(ctx) ? campaign.titleEn : campaign.titleZh }),
      {
        reply_markup: {
          inline_keyboard: campaign.categories.map((k) => [
            button(
              deps,
              ctx,
              ctx.t('upload.category_button', {
                name: en(ctx) ? k.nameEn : k.nameZh,
                amount: formatYuan(k.standardAmountFen),
              }),
              'up_k',
              purpose,
              sel.unionId!,
              k.id,
            ),
          ]),
        },
      },
    );
  };

  const loadTarget = async (t: Target) => {
    const category = await importTarget(nd, t);
    return category && { category, campaign: category.campaign, cat: toCategoryInfo(category) };
  };

  const finish = async (ctx: BotContext, purpose: Purpose, target: Target) => {
    if (!ctx.who.access.unionIds.includes(target.unionId)) return ctx.reply(ctx.t('errors.forbidden'));
    const loaded = await loadTarget(target);
    if (!loaded) return ctx.reply(ctx.t('upload.errors.upload_category'));
    await deps.redis.set(targetKey(ctx.who.id), JSON.stringify(target), 'EX', TARGET_TTL_SECONDS);
    if (purpose === 't') {
      const { campaign, cat } = loaded;
      const source = await buildTemplate({ campaign, category: cat, locale: ctx.locale });
      return ctx.replyWithDocument(
        { source, filename: ctx.t('upload.template_file', { category: cat.code }) },
        {
          caption: ctx.t('upload.template_caption', {
            category: en(ctx) ? cat.nameEn : cat.nameZh,
            campaign: en(ctx) ? campaign.titleEn : campaign.titleZh,
          }),
        },
      );
    }
    const pending = await readJson<PendingFile>(pendingKey(ctx.who.id));
    if (!pending) return ctx.reply(ctx.t('upload.errors.upload_batch_gone'));
    await deps.redis.del(pendingKey(ctx.who.id));
    return processFile(ctx, target, pending);
  };

  // ------------------------------------------------------------ checking a file

  const download = async (ctx: BotContext, fileId: string): Promise<Uint8Array | undefined> => {
    const link = await ctx.telegram.getFileLink(fileId);
    const res = await fetch(link);
    if (!res.ok) {
      deps.logger.warn({ requestId: ctx.requestId, status: res.status }, 'spreadsheet download failed');
      return undefined;
    }
    return new Uint8Array(await res.arrayBuffer());
  };

  const processFile = async (ctx: BotContext, target: Target, file: PendingFile) => {
    const loaded = await loadTarget(target);
    if (!loaded) return ctx.reply(ctx.t('upload.errors.upload_category'));
    const { campaign, cat } = loaded;
    const bytes = await download(ctx, file.fileId);
    if (!bytes) return ctx.reply(ctx.t('upload.download_failed'));
    if (bytes.byteLength > MAX_UPLOAD_BYTES) {
      return ctx.reply(
        ctx.t('upload.file_too_large', { size: mb(bytes.byteLength), max: mb(MAX_UPLOAD_BYTES) }),
      );
    }
    // Columns every row needs whatever its benefit form (bank columns only if all forms are transfers).
    const required = requiredColumnsFor(cat, cat.benefitForms.find((f) => f !== 'transfer') ?? 'transfer');
    const started = Date.now();
    // Parsed off the bot's event loop, after the zip's directory passed the size limits. The rows come
    // in slices while the child parses the rest, and are checked as they come (the context, the
    // look-up hashes' worker and the first slices' checks overlap the parse). Nothing is stored before
    // the whole file has parsed: a refused or failed parse fails the feed, and the check with it.
    const feed = new RowFeed<SheetRow>();
    let checking: { chat: { id: number }; message_id: number } | undefined;
    // A long file: the "checking" message becomes a progress message, edited at most every
    // PROGRESS_EVERY_MS through the outbound path (one edit in flight at a time).
    let lastEdit = Date.now();
    let editing = false;
    const onProgress = (done: number, total: number) => {
      if (!checking || total < PROGRESS_MIN_ROWS || editing || Date.now() - lastEdit < PROGRESS_EVERY_MS)
        return;
      const shown = checking;
      editing = true;
      lastEdit = Date.now();
      const text = ctx.t('import_progress.checking', {
        file: file.fileName,
        percent: Math.floor((done / total) * 100),
        done: done.toLocaleString('en-US'),
        total: total.toLocaleString('en-US'),
      });
      ctx.telegram
        .editMessageText(shown.chat.id, shown.message_id, undefined, text)
        .catch((err: unknown) =>
          deps.logger.debug({ requestId: ctx.requestId, err }, 'progress edit not shown'),
        )
        .finally(() => {
          editing = false;
        });
    };
    const check = checkImport(
      nd,
      { personId: ctx.who.id, ...target, rows: feed },
      { onProgress, longExpected: bytes.byteLength >= LONG_FILE_BYTES },
    );
    check.catch(() => {}); // awaited below, or moot when the parse fails
    let safe: Awaited<ReturnType<typeof parseUpload<'nomination_sheet'>>>;
    try {
      safe = await parseUpload('nomination_sheet', bytes, file.fileName, {
        sheetOptions: { required, maxRows: MAX_SHEET_ROWS },
        onRows: (rows) => feed.push(rows),
      });
    } catch (err) {
      feed.fail(err);
      throw err;
    }
    const parsed = safe.ok ? safe.value : undefined;
    if (!parsed?.ok) {
      feed.fail(new Error('file not parsed'));
      await check.catch(() => {}); // winds down (its worker closed); it stored nothing
      if (!safe.ok) {
        deps.logger.info({ requestId: ctx.requestId, refused: safe.refused }, 'spreadsheet refused unread');
        return ctx.reply(ctx.t(`upload_refused.${safe.refused}`));
      }
      const error = (parsed as { ok: false; error: SheetError }).error;
      deps.logger.info({ requestId: ctx.requestId, code: error.code }, 'spreadsheet refused');
      return ctx.reply(sheetErrorText(ctx, error));
    }
    try {
      checking = await ctx.reply(ctx.t('upload.checking', { file: file.fileName }));
    } catch (err) {
      // Nobody would be told about the check: it stops before storing anything.
      feed.fail(err);
      await check.catch(() => {});
      throw err;
    }
    // The rows the feed has not had yet (all of a short file's); the check stores after this.
    feed.end(parsed.rows.slice(feed.received));
    lastEdit = Date.now();
    let checkedImport: Awaited<ReturnType<typeof checkImport>>;
    try {
      checkedImport = await check;
    } catch (err) {
      if (err instanceof DomainError) return ctx.reply(errorText(ctx, err));
      throw err;
    }
    const { validation: v, batch: stored } = checkedImport;
    deps.logger.info(
      { requestId: ctx.requestId, rows: v.rows.length, valid: v.valid, ms: Date.now() - started },
      'spreadsheet checked',
    );

    const byLine = new Map(parsed.rows.map((r) => [r.line, r]));
    const columns = parsed.columns.filter((c) => columnsFor(cat).includes(c));
    const checked = await buildCheckedFile({
      locale: ctx.locale,
      columns,
      headerLine: parsed.headerLine,
      rows: v.rows.map((r) => ({
        line: r.line,
        values: byLine.get(r.line)?.values ?? {},
        problems: r.ok ? '' : joinIssues(ctx, r.issues),
        warnings: r.warnings.length > 0 ? joinIssues(ctx, r.warnings) : '',
      })),
    });
    const base = file.fileName.replace(/\.[^.]*$/, '') || 'list';
    await ctx.replyWithDocument(
      { source: checked, filename: ctx.t('upload.checked_file', { name: base }) },
      { caption: ctx.t('upload.checked_caption') },
    );

    const lines = [
      ctx.t('upload.summary', {
        file: file.fileName,
        campaign: en(ctx) ? campaign.titleEn : campaign.titleZh,
        category: en(ctx) ? cat.nameEn : cat.nameZh,
        total: v.rows.length,
        valid: v.valid,
        invalid: v.invalid,
      }),
    ];
    if (v.quotaRemaining !== null) lines.push(ctx.t('upload.summary_quota', { remaining: v.quotaRemaining }));
    if (v.overLimit > 0) {
      const left = v.budgetRemainingFen < 0n ? 0 : Number(v.budgetRemainingFen);
      lines.push(ctx.t('upload.summary_budget', { remaining: formatYuan(left) }));
      lines.push(ctx.t('upload.summary_over_limit', { count: v.overLimit }));
    }
    const warned = v.rows.filter((r) => r.ok && r.warnings.length > 0).length;
    if (warned > 0) lines.push(ctx.t('upload.summary_warnings', { count: warned }));
    const bad = v.rows.filter((r) => !r.ok);
    if (bad.length > 0) {
      lines.push('', ctx.t('upload.summary_first_problems'));
      for (const r of bad.slice(0, SHOWN_PROBLEM_ROWS)) {
        const text = joinIssues(ctx, r.issues);
        lines.push(
          ctx.t('upload.row_line', {
            line: r.line,
            problems: text.length > 300 ? `${text.slice(0, 300)}…` : text,
          }),
        );
      }
      if (bad.length > SHOWN_PROBLEM_ROWS)
        lines.push(ctx.t('upload.summary_more_problems', { count: bad.length - SHOWN_PROBLEM_ROWS }));
    }
    lines.push('');
    if (!stored) {
      lines.push(ctx.t('upload.summary_none_valid'));
      return ctx.reply(lines.join('\n'));
    }
    lines.push(ctx.t('upload.summary_confirm', { valid: stored.stored }));
    return ctx.reply(lines.join('\n'), {
      reply_markup: {
        inline_keyboard: [
          [
            button(
              deps,
              ctx,
              ctx.t('upload.submit_button', { count: stored.stored }),
              'up_ok',
              stored.batchId,
            ),
            button(deps, ctx, ctx.t('upload.cancel_button'), 'up_no', stored.batchId),
          ],
        ],
      },
    });
  };

  const onDocument = async (ctx: BotContext, doc: Document) => {
    const fileName = doc.file_name ?? 'file';
    if ((doc.file_size ?? 0) > MAX_UPLOAD_BYTES) {
      return ctx.reply(
        ctx.t('upload.file_too_large', { size: mb(doc.file_size ?? 0), max: mb(MAX_UPLOAD_BYTES) }),
      );
    }
    const ext = /\.([A-Za-z0-9]{1,8})$/.exec(fileName)?.[1]?.toLowerCase() ?? '';
    if (ext === 'xls') return ctx.reply(ctx.t('upload.wrong_type_xls'));
    if (!['xlsx', 'xlsm', 'csv', 'txt'].includes(ext)) {
      return ctx.reply(ctx.t('upload.wrong_type', { ext: ext ? `.${ext}` : (doc.mime_type ?? '?') }));
    }
    if (ctx.who.access.unionIds.length === 0) return ctx.reply(ctx.t('upload.no_union'));
    const file: PendingFile = { fileId: doc.file_id, fileName };
    const target = await readJson<Target>(targetKey(ctx.who.id));
    const open = target ? await openCampaigns(deps.db, deps.now()) : [];
    if (
      target &&
      ctx.who.access.unionIds.includes(target.unionId) &&
      open.some((c) => c.id === target.campaignId && c.categories.some((k) => k.id === target.categoryId))
    ) {
      return processFile(ctx, target, file);
    }
    await deps.redis.set(pendingKey(ctx.who.id), JSON.stringify(file), 'EX', PENDING_TTL_SECONDS);
    await ctx.reply(ctx.t('upload.file_received', { file: fileName }));
    return choose(ctx, 'f', {});
  };

  const contact = ['contact'] as const;
  const purposeOf = (p: string | undefined): Purpose => (p === 'f' ? 'f' : 't');

  return {
    commands: [{ name: 'template', access: contact, handler: (ctx) => choose(ctx, 't', {}) }],
    callbacks: [
      {
        action: 'up_u',
        access: contact,
        handler: async (ctx, [p, union]) => {
          const unionId = Number(union);
          if (!ctx.who.access.unionIds.includes(unionId)) return ctx.reply(ctx.t('errors.forbidden'));
          return choose(ctx, purposeOf(p), { unionId });
        },
      },
      {
        action: 'up_c',
        access: contact,
        handler: async (ctx, [p, union, campaign]) => {
          const unionId = Number(union);
          if (!ctx.who.access.unionIds.includes(unionId)) return ctx.reply(ctx.t('errors.forbidden'));
          return choose(ctx, purposeOf(p), { unionId, campaignId: Number(campaign) });
        },
      },
      {
        action: 'up_k',
        access: contact,
        handler: async (ctx, [p, union, category]) => {
          const k = await importTarget(nd, { categoryId: Number(category) });
          if (!k) return ctx.reply(ctx.t('upload.errors.upload_category'));
          return finish(ctx, purposeOf(p), {
            unionId: Number(union),
            campaignId: k.campaignId,
            categoryId: k.id,
          });
        },
      },
      {
        action: 'up_ok',
        access: contact,
        handler: async (ctx, [batchId]) => {
          // Submitting thousands of rows runs as a staff job; this message shows its progress and result.
          return requestStaffJob(deps, ctx, {
            kind: 'import_submit',
            params: { uploadBatchId: batchId ?? '' },
            activeKey: `import_submit:${ctx.who.id}:${batchId ?? ''}`,
            mode: 'edit',
          });
        },
      },
      {
        action: 'up_no',
        access: contact,
        handler: async (ctx, [batchId]) => {
          const count = await cancelImport(nd, { personId: ctx.who.id, batchId: batchId ?? '' });
          await ctx.editMessageText(
            count > 0 ? ctx.t('upload.cancelled', { count }) : ctx.t('upload.errors.upload_batch_gone'),
          );
        },
      },
    ],
    install: (bot: Telegraf<BotContext>) => {
      bot.on(message('document'), async (ctx, next) => {
        const doc = ctx.message.document;
        const looksLikeSheet = SHEET_EXT.test(doc.file_name ?? '') || SHEET_MIME.test(doc.mime_type ?? '');
        if (!ctx.who.access.roles.has('contact')) {
          if (!looksLikeSheet) return next();
          deps.metrics.inc('warmth_commands_refused_total', 'Commands refused for lack of a role', {
            command: 'upload',
          });
          await ctx.reply(ctx.t('upload.errors.upload_forbidden'));
          return;
        }
        await onDocument(ctx, doc);
      });
    },
  };
}
