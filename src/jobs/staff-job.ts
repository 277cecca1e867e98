import type { Telegram } from 'telegraf';
import { z } from 'zod';
import type { FieldCipher } from '../adapters/crypto/field-cipher.ts';
import type { Db } from '../adapters/db/client.ts';
import type { ChartFont } from '../adapters/files/chart-font.ts';
import { renderChart } from '../adapters/files/chart.ts';
import { buildReportDocx } from '../adapters/files/report-docx.ts';
import { viewReport } from '../usecases/audit-trail.ts';
import type { ExportChildJob } from '../adapters/files/export-child.ts';
import { exportDir, removeJobExportFiles } from '../adapters/files/export-parts.ts';
import { runExportChild } from '../adapters/files/export-process.ts';
import type { Metrics } from '../adapters/http/metrics.ts';
import type { I18n, Locale, Params } from '../adapters/i18n.ts';
import type { Logger } from '../adapters/logger.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import type { CallbackCodec } from '../adapters/telegram/callback-data.ts';
import { classifyTelegramError, SendDeferred } from '../adapters/telegram/errors.ts';
import { formatYuan } from '../domain/campaign/money.ts';
import { DomainError } from '../domain/errors.ts';
import { submitImport } from '../usecases/nominations/submit-import.ts';
import { type BatchSummary, createBatch, markBatchPaid } from '../usecases/payments/batches.ts';
import { onBatchChanged } from '../usecases/reminders.ts';
import { exportEntryListVia } from '../usecases/report/entry.ts';
import { type CampaignFigures, campaignFigures, formatRate } from '../usecases/report/figures.ts';
import {
  exportLedgerVia,
  type LedgerFilters,
  type LedgerRead,
  ledgerCount,
} from '../usecases/report/ledger.ts';
import { bulkApprove } from '../usecases/review/bulk-approve.ts';
import { ensureReviewTasks } from '../usecases/review/tasks.ts';
import {
  claimStaffJob,
  markStaffJobDelivered,
  markStaffJobFailed,
  recordStaffJobPartSent,
  recordStaffJobProgress,
  STAFF_JOB,
  type StaffJobKind,
  type StaffJobResult,
  type StaffJobRow,
  storeStaffJobResult,
} from '../usecases/staff-jobs.ts';
import { defineJob } from './registry.ts';

// The one runner of staff jobs (see usecases/staff-jobs.ts): claims the row, runs the action for its
// kind with a progress message, stores the result, then turns the progress message into the result.
// Every Bot API call goes through the worker's paced outbound path; progress edits are throttled
// (one every `progressEveryMs`, only when the text changes) and skipped when the path is busy, the
// final edit and the files wait for their slot.

export interface StaffJobDeps {
  db: Db;
  i18n: I18n;
  logger: Logger;
  metrics: Metrics;
  cipher: FieldCipher;
  queues: Queues;
  telegram: Telegram;
  callbacks: CallbackCodec;
  now: () => Date;
  staffJobs: { partBytes: number; progressEveryMs: number };
  /** The /report chart's font; without it the report has no chart (as in the chat before). */
  chartFont?: ChartFont;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A send that must happen: waits out a busy outbound path (up to ~2 minutes) instead of failing. */
async function patiently<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (err) {
      if (!(err instanceof SendDeferred) || attempt >= 20) throw err;
      await sleep(Math.min(Math.max(err.retryAfterMs, 500), 10_000));
    }
  }
}

function tr(deps: StaffJobDeps, locale: Locale, key: string, values: Record<string, string | number> = {}) {
  // `@key` values are locale keys themselves (status names...), as in the review texts.
  const params: Params = Object.fromEntries(
    Object.entries(values).map(([k, v]) => [
      k,
      typeof v === 'string' && v.startsWith('@') ? deps.i18n.t(locale, v.slice(1)) : v,
    ]),
  );
  return deps.i18n.t(locale, key, params);
}

/** The job's one message in the chat: progress edits (throttled) and the final text. */
class ProgressMessage {
  private lastText = '';
  private lastAt = 0;

  constructor(
    private readonly deps: StaffJobDeps,
    private readonly job: StaffJobRow,
    private readonly locale: Locale,
  ) {}

  private async edit(text: string, extra: object = {}) {
    if (this.job.messageId === null) return;
    try {
      await this.deps.telegram.editMessageText(
        Number(this.job.chatId),
        this.job.messageId,
        undefined,
        text,
        extra,
      );
    } catch (err) {
      const kind = classifyTelegramError(err).kind;
      if (kind === 'not_modified') return;
      if (kind === 'message_gone') {
        // Deleted or too old to edit: the result comes as a new message.
        await this.deps.telegram.sendMessage(Number(this.job.chatId), text, extra);
        return;
      }
      throw err;
    }
  }

  /** The worker took the job: "正在处理…" (best effort: the result follows anyway). */
  async start() {
    this.lastAt = Date.now();
    await this.edit(tr(this.deps, this.locale, `staff_jobs.working.${this.job.kind}`)).catch(() => {});
  }

  /** "正在导出… 45%（45,000/100,000）": at most one edit per interval, none when the path is busy. */
  async progress(done: number, total: number) {
    const now = Date.now();
    if (now - this.lastAt < this.deps.staffJobs.progressEveryMs) return;
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
    const text = tr(this.deps, this.locale, `staff_jobs.progress.${this.job.kind}`, {
      pct,
      done: done.toLocaleString('en-US'),
      total: total.toLocaleString('en-US'),
    });
    if (text === this.lastText) return;
    this.lastAt = now;
    this.lastText = text;
    await recordStaffJobProgress(this.deps.db, this.job.id, done, total).catch(() => {});
    await this.edit(text).catch((err: unknown) => {
      if (!(err instanceof SendDeferred))
        this.deps.logger.warn({ err, staffJobId: this.job.id }, 'progress edit failed');
    });
  }

  async final(result: StaffJobResult) {
    const text = result.lines.map((l) => tr(this.deps, this.locale, l.key, l.values)).join('\n');
    const buttons = result.buttons?.length
      ? {
          reply_markup: {
            inline_keyboard: [
              result.buttons.map((b) => ({
                text: tr(this.deps, this.locale, b.key, b.values),
                callback_data: this.deps.callbacks.encode(Number(this.job.chatId), b.action, ...b.args),
              })),
            ],
          },
        }
      : {};
    await patiently(() => this.edit(text, buttons));
  }
}

interface RunContext {
  deps: StaffJobDeps;
  job: StaffJobRow;
  locale: Locale;
  message: ProgressMessage;
}

type Runner = (c: RunContext) => Promise<StaffJobResult>;

const num = (v: unknown) => (typeof v === 'number' ? v : Number(v));
const ID_LIST_MAX = 60;
const SLICE_ROWS = 250;
const idList = (list: number[]) =>
  list.length > ID_LIST_MAX ? `${list.slice(0, ID_LIST_MAX).join(', ')} …` : list.join(', ');

/**
 * Runs the export in its child process (adapters/files/export-process.ts: it reads, decrypts and writes
 * the parts of at most `partBytes`, reporting the rows written), then sends each part as a document and
 * removes the files, on every path (a child that died leaves parts behind: all of the job's are removed).
 */
async function exportRun(
  c: RunContext,
  opts: {
    total: number;
    /** Reads the look-ups, runs `write(read)` and audit-logs (exportLedgerVia, exportEntryListVia). */
    run: (write: (read: LedgerRead) => Promise<number>) => Promise<number>;
    kind: ExportChildJob['kind'];
    sheet: ExportChildJob['sheet'];
    filename: (part: number, parts: number) => string;
    caption: string;
  },
): Promise<{ rows: number; parts: number; childPeakRssMb: number }> {
  let paths: string[] = [];
  let childPeakRssMb = 0;
  try {
    const rows = await opts.run(async (read) => {
      // Progress edits in order, one at a time; the child does not wait for them.
      let progress = Promise.resolve();
      const done = await runExportChild(
        {
          kind: opts.kind,
          read,
          keys: c.deps.cipher.decryptionKeys(),
          sheet: opts.sheet,
          partBytes: c.deps.staffJobs.partBytes,
          files: { dir: exportDir(), jobId: c.job.id, pid: process.pid },
          sliceRows: SLICE_ROWS,
        },
        (written) => {
          progress = progress.then(() => c.message.progress(written, opts.total));
        },
      );
      await progress;
      paths = done.paths;
      childPeakRssMb = done.peakRssMb;
      return done.rows;
    });
    const parts = paths.length;
    for (const [i, path] of paths.entries()) {
      // A part an earlier attempt delivered is not sent again (the attempt failed after it).
      if (i + 1 <= c.job.partsSent) continue;
      const caption =
        parts > 1
          ? `${opts.caption}\n${tr(c.deps, c.locale, 'staff_jobs.part_caption', { part: i + 1, parts })}`
          : opts.caption;
      await patiently(() =>
        c.deps.telegram.sendDocument(
          Number(c.job.chatId),
          // The path, not an opened stream: telegraf opens it for each call, so a send the outbound path
          // repeats after a 429 uploads the file again (a repeated stream would be empty: "file must be
          // non-empty", and the whole attempt failed and ran again).
          { source: path, filename: opts.filename(i + 1, parts) },
          { caption },
        ),
      );
      await recordStaffJobPartSent(c.deps.db, c.job.id, i + 1);
    }
    return { rows, parts, childPeakRssMb };
  } finally {
    await removeJobExportFiles(c.job.id);
  }
}

const partName = (name: string, part: number, parts: number) =>
  parts > 1 ? name.replace(/\.xlsx$/, `-${part}of${parts}.xlsx`) : name;

const runners: Record<StaffJobKind, Runner> = {
  async ledger_export(c): Promise<StaffJobResult> {
    const { deps, job, locale } = c;
    const campaignId = num(job.params['campaignId']);
    const access = job.params['access'] === 'full' ? 'full' : 'masked';
    const filters = (job.params['filters'] ?? {}) as LedgerFilters;
    const figures = await campaignFigures(deps.db, campaignId, deps.now());
    const title = locale === 'en' ? figures.campaign.titleEn : figures.campaign.titleZh;
    const total = await ledgerCount(deps.db, campaignId, filters);
    const file = tr(deps, locale, 'ledger.file', { code: figures.campaign.code, date: figures.asOfDate });
    const r = await exportRun(c, {
      total,
      run: (write) =>
        exportLedgerVia(deps.db, { campaignId, access, filters, actorId: job.actorId, run: write }),
      kind: 'ledger',
      sheet: {
        locale,
        settleAt: deps.staffJobs.partBytes,
        masked: access === 'masked',
        title: tr(deps, locale, 'ledger.sheet_title', { title, date: figures.asOfDate }),
        figures,
      },
      filename: (part, parts) => partName(file, part, parts),
      caption: tr(deps, locale, access === 'full' ? 'ledger.caption_full' : 'ledger.caption_masked', {
        title,
      }),
    });
    deps.logger.info(
      {
        staffJobId: job.id,
        campaignId,
        rows: r.rows,
        parts: r.parts,
        access,
        childPeakRssMb: r.childPeakRssMb,
      },
      'ledger exported',
    );
    return {
      lines: [
        { key: 'staff_jobs.export_done', values: { rows: r.rows.toLocaleString('en-US') } },
        ...(r.parts > 1 ? [{ key: 'staff_jobs.export_parts', values: { parts: r.parts } }] : []),
      ],
      counts: { rows: r.rows, parts: r.parts },
    };
  },

  async entry_list(c): Promise<StaffJobResult> {
    const { deps, job, locale } = c;
    const campaignId = num(job.params['campaignId']);
    const f = await campaignFigures(deps.db, campaignId, deps.now());
    const title = locale === 'en' ? f.campaign.titleEn : f.campaign.titleZh;
    const total = await ledgerCount(deps.db, campaignId, {
      statuses: ['paid', 'handed_over'],
      notEntered: true,
    });
    const file = tr(deps, locale, 'entry.file', { code: f.campaign.code, date: f.asOfDate });
    const r = await exportRun(c, {
      total,
      run: (write) => exportEntryListVia(deps.db, { campaignId, actorId: job.actorId, run: write }),
      kind: 'entry_list',
      sheet: {
        locale,
        settleAt: deps.staffJobs.partBytes,
        masked: false,
        title: tr(deps, locale, 'entry.sheet_title', { title, date: f.asOfDate }),
      },
      filename: (part, parts) => partName(file, part, parts),
      caption: tr(deps, locale, 'entry.list_caption', {
        title,
        due: f.timeliness.entry.due,
        overdue: f.timeliness.entry.overdue,
        days: f.timeliness.entry.workingDays,
      }),
    });
    return {
      lines: [
        { key: 'staff_jobs.export_done', values: { rows: r.rows.toLocaleString('en-US') } },
        ...(r.parts > 1 ? [{ key: 'staff_jobs.export_parts', values: { parts: r.parts } }] : []),
      ],
      counts: { rows: r.rows, parts: r.parts },
    };
  },

  async report(c): Promise<StaffJobResult> {
    const { deps, job, locale } = c;
    const campaignId = num(job.params['campaignId']);
    const chatId = Number(job.chatId);
    const t = (key: string, values: Record<string, string | number> = {}) => tr(deps, locale, key, values);
    // Read (and audited) once per job: a re-run after a crash reads the figures again.
    const f = await viewReport(deps.db, { campaignId, actorId: job.actorId, now: deps.now() });
    const en = locale === 'en';
    const title = en ? f.campaign.titleEn : f.campaign.titleZh;
    await patiently(() => deps.telegram.sendMessage(chatId, summaryText(t, en, f)));
    // Without a font the picture would have bars and no words: the summary above carries the figures.
    let chart: Buffer | undefined;
    const font = deps.chartFont;
    if (!font || font.fonts.length === 0)
      await patiently(() => deps.telegram.sendMessage(chatId, t('chart_font.no_font')));
    else {
      const rendered = await renderChart(f, { locale, font });
      chart = rendered.png;
      if (rendered.missing.length > 0)
        deps.logger.warn(
          { missing: rendered.missing.join('') },
          'chart: no font has these characters (install fonts-noto-cjk or set CHART_FONT)',
        );
      const png = chart;
      await patiently(() =>
        deps.telegram.sendPhoto(
          chatId,
          { source: png, filename: `chart-${f.campaign.code}.png` },
          { caption: t('report.chart_caption', { title }) },
        ),
      );
    }
    const docx = await buildReportDocx(f, chart ? { chartPng: chart } : {});
    await patiently(() =>
      deps.telegram.sendDocument(
        chatId,
        { source: docx, filename: t('report.docx_file', { code: f.campaign.code, date: f.asOfDate }) },
        { caption: t('report.docx_caption') },
      ),
    );
    return {
      lines: [{ key: 'staff_jobs.report_done', values: { title } }],
      counts: { recipients: f.totals.recipients },
    };
  },

  async batch_new(c): Promise<StaffJobResult> {
    const { deps, job } = c;
    let stored: StaffJobResult | undefined;
    // The result is written in the batch's own transaction: a worker killed after the commit finds
    // it on the next run and only delivers it (never a second batch).
    const b = await createBatch(paymentDeps(deps), {
      campaignCode: String(job.params['campaignCode']),
      actorId: job.actorId,
      inTransaction: async (tx, b) => {
        stored = batchCreatedResult(b);
        await storeStaffJobResult(tx, job.id, stored, deps.now());
      },
    });
    return stored ?? batchCreatedResult(b);
  },

  async batch_paid(c): Promise<StaffJobResult> {
    const { deps, job } = c;
    const batchId = num(job.params['batchId']);
    const r = await markBatchPaid(paymentDeps(deps), { batchId, actorId: job.actorId });
    if (r.changed)
      await onBatchChanged(deps.db, deps.queues, batchId, deps.now()).catch((err: unknown) =>
        deps.logger.warn({ err, batchId }, 'reminder re-sync after a paid batch failed'),
      );
    if (!r.changed)
      return {
        lines: [
          {
            key: 'payments.already_done',
            values: { id: batchId, status: `@payments.batch_status.${r.status}` },
          },
        ],
        counts: { paid: 0 },
      };
    return {
      lines: [
        { key: 'payments.paid_done', values: { id: batchId, count: r.paid, notices: r.noticesQueued } },
      ],
      counts: { paid: r.paid, notices: r.noticesQueued },
    };
  },

  async bulk_approve(c): Promise<StaffJobResult> {
    const { deps, job } = c;
    const p = job.params;
    const r = await bulkApprove(
      { db: deps.db, cipher: deps.cipher, queues: deps.queues, now: deps.now },
      {
        reviewerId: job.actorId,
        filter: {
          campaignId: num(p['campaignId']),
          ...(p['categoryId'] ? { categoryId: num(p['categoryId']) } : {}),
          ...(p['unionId'] ? { unionId: num(p['unionId']) } : {}),
        },
        expectCount: num(p['expectCount']),
        maxId: num(p['maxId']),
      },
    );
    if (r.outcome === 'changed')
      return { lines: [{ key: 'staff_jobs.bulk_changed' }], counts: { approved: 0 } };
    const ex = r.excluded.map((e) => `#${e.id}`).join(' ');
    return {
      lines: [
        { key: 'review.bulk_done', values: { n: r.count, total: formatYuan(r.totalFen) } },
        ...(r.excluded.length
          ? [{ key: 'review.bulk_done_excluded', values: { n: r.excluded.length, ids: ex.slice(0, 1500) } }]
          : []),
      ],
      counts: { approved: r.count },
    };
  },

  async import_submit(c): Promise<StaffJobResult> {
    const { deps, job } = c;
    try {
      const r = await submitImport(
        { db: deps.db, cipher: deps.cipher, now: deps.now },
        { personId: job.actorId, batchId: String(job.params['uploadBatchId'] ?? '') },
      );
      if (r.submitted > 0)
        await ensureReviewTasks(deps.db, deps.queues).catch((err: unknown) =>
          deps.logger.warn({ err }, 'review tasks after import failed'),
        );
      const lines: StaffJobResult['lines'] = [
        { key: 'upload.submitted', values: { count: r.submitted, amount: formatYuan(r.amountFen) } },
      ];
      if (r.flagged > 0) lines.push({ key: 'upload.submitted_flagged', values: { count: r.flagged } });
      const refused = Object.entries(r.refused).filter(([, n]) => n > 0);
      if (refused.length > 0)
        lines.push({
          key: 'upload.submitted_refused',
          values: {
            count: refused.reduce((a, [, n]) => a + n, 0),
            details: refused
              .map(([code, n]) => tr(deps, c.locale, `upload.refused_item.${code}`, { count: n }))
              .join(tr(deps, c.locale, 'upload.list_separator')),
          },
        });
      return { lines, counts: { submitted: r.submitted } };
    } catch (err) {
      // A previous attempt of this job submitted the drafts before its worker died.
      if (err instanceof DomainError && err.code === 'upload_batch_gone' && job.attempts > 1)
        return { lines: [{ key: 'staff_jobs.import_already' }], counts: { submitted: 0 } };
      throw err;
    }
  },
};

/** The /report summary message (the figures the chart and the .docx also show). */
function summaryText(
  t: (key: string, values?: Record<string, string | number>) => string,
  en: boolean,
  f: CampaignFigures,
) {
  const title = (x: { titleZh: string; titleEn: string }) => (en ? x.titleEn : x.titleZh);
  const b = f.budget;
  const e = f.timeliness.entry;
  const a = f.accuracy;
  return [
    t('report.summary_title', { title: title(f.campaign), date: f.asOfDate }),
    t('report.summary_budget', {
      budget: formatYuan(b.totalFen),
      direct: formatYuan(b.directSpentFen),
      unions: formatYuan(b.allocatedToUnionsFen),
      spent: formatYuan(b.spentFen),
      rate: formatRate(b.execution),
    }),
    t('report.summary_recipients', {
      count: f.totals.recipients,
      amount: formatYuan(f.totals.amountFen),
    }),
    ...f.categories.map((c) =>
      t(c.kind === 'department' ? 'report.category_line_units' : 'report.category_line', {
        name: en ? c.nameEn : c.nameZh,
        count: c.recipients,
        amount: formatYuan(c.amountFen),
      }),
    ),
    t('report.summary_disbursement', {
      rate: formatRate(f.disbursement),
      delivered: f.disbursement.num,
      approved: f.disbursement.den,
    }),
    t('report.summary_reach', { reach: formatRate(f.reach), confirm: formatRate(f.followUp) }),
    t('announce.report_opening', {
      hours: f.opening.reachHours,
      reached: f.opening.reached.num,
      unions: f.opening.reached.den,
      rate: formatRate(f.opening.reached),
      median: f.opening.medianHoursToFirstSubmission ?? '-',
      submitted: f.opening.unionsSubmitted,
    }),
    t('report.summary_timeliness', {
      submission: formatRate(f.timeliness.submission),
      hours: f.timeliness.review.slaHours,
      review: formatRate(f.timeliness.review),
      days: e.workingDays,
      entry: formatRate(e.onTimeRate),
      due: e.due,
      overdue: e.overdue,
    }),
    t('report.summary_accuracy', {
      returned: a.returnDecisions,
      rejected: a.rejectDecisions,
      duplicates: a.duplicatesBlocked,
      ids: a.idErrorsCaught,
    }),
  ].join('\n');
}

function paymentDeps(deps: StaffJobDeps) {
  return {
    db: deps.db,
    cipher: deps.cipher,
    queues: deps.queues,
    now: deps.now,
    hasKey: (k: string) => deps.i18n.has(k),
  };
}

function batchCreatedResult(b: BatchSummary): StaffJobResult {
  return {
    lines: [
      {
        key: 'payments.batch_created',
        values: { code: b.code, count: b.count, total: formatYuan(Number(b.totalFen)) },
      },
      ...(b.capped.length > 0 ? [{ key: 'payments.batch_capped', values: { ids: idList(b.capped) } }] : []),
      ...(b.skipped.length > 0
        ? [{ key: 'payments.batch_skipped', values: { ids: idList(b.skipped) } }]
        : []),
    ],
    buttons: [
      { key: 'payments.btn_export', action: 'pay_exp', args: [b.batchId] },
      { key: 'payments.btn_paid', action: 'pay_paid', args: [b.batchId] },
    ],
    counts: { batchId: b.batchId, count: b.count },
  };
}

/** Turns a DomainError of an action into its localized message (the texts the chat used before). */
function failureResult(deps: StaffJobDeps, err: DomainError): StaffJobResult {
  const values = Object.fromEntries(
    Object.entries(err.params ?? {}).map(([k, v]) => [k, typeof v === 'number' ? v : String(v)]),
  );
  for (const prefix of ['payments.errors', 'upload.errors', 'review.errors', 'errors'])
    if (deps.i18n.has(`${prefix}.${err.code}`)) return { lines: [{ key: `${prefix}.${err.code}`, values }] };
  return { lines: [{ key: 'staff_jobs.failed' }] };
}

export async function runStaffJob(
  deps: StaffJobDeps,
  staffJobId: string,
  attempt: { final: boolean },
): Promise<string> {
  const job = await claimStaffJob(deps.db, staffJobId, deps.now());
  if (!job) return 'unknown';
  const locale: Locale = job.locale === 'en' ? 'en' : 'zh-CN';
  const message = new ProgressMessage(deps, job, locale);
  if (job.status === 'delivered' || job.status === 'failed') return 'already_finished';
  let result = job.status === 'done' ? job.result : null;
  if (!result) {
    await message.start();
    try {
      result = await runners[job.kind]({ deps, job, locale, message });
      await storeStaffJobResult(deps.db, job.id, result, deps.now());
    } catch (err) {
      if (err instanceof DomainError) {
        result = failureResult(deps, err);
        await storeStaffJobResult(deps.db, job.id, result, deps.now());
      } else {
        deps.logger.warn({ err, staffJobId: job.id, kind: job.kind }, 'staff job attempt failed');
        if (attempt.final) {
          await markStaffJobFailed(deps.db, job.id, deps.now());
          await message.final({ lines: [{ key: 'staff_jobs.failed' }] }).catch(() => {});
        }
        throw err;
      }
    }
  }
  await message.final(result);
  await markStaffJobDelivered(deps.db, job.id);
  return 'done';
}

export const staffJob = defineJob({
  queue: 'staff',
  name: STAFF_JOB,
  schema: z.object({ staffJobId: z.string().uuid() }),
  async handle(deps: StaffJobDeps, { staffJobId }, job) {
    const final = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    return runStaffJob(deps, staffJobId, { final });
  },
});
