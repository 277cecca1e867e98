import type { ChartFont } from '../adapters/files/chart-font.ts';
import type { FieldCipher } from '../adapters/crypto/field-cipher.ts';
import type { Db } from '../adapters/db/client.ts';
import type { Metrics } from '../adapters/http/metrics.ts';
import type { I18n } from '../adapters/i18n.ts';
import type { Logger } from '../adapters/logger.ts';
import type { Queues } from '../adapters/queue/queues.ts';
import type { Telegram } from 'telegraf';
import type { AnyJob } from './registry.ts';
import { sendReminderJob } from './send-reminder.ts';
import { sendNoticeJob } from './send-notice.ts';
import { reviewDigestJob, reviewSlaJob, reviewTaskJob } from './review-task.ts';
import { sweepNoticesJob } from './sweep-notices.ts';
import type { SmsProvider } from '../adapters/sms/provider.ts';
import { cleanupDraftsJob } from './cleanup-drafts.ts';
import type { CallbackCodec } from '../adapters/telegram/callback-data.ts';
import { campaignOpeningJob } from './campaign-opening.ts';
import { staffJob } from './staff-job.ts';

export interface JobDeps {
  db: Db;
  i18n: I18n;
  logger: Logger;
  metrics: Metrics;
  cipher: FieldCipher;
  queues: Queues;
  /** Bot API client on the outbound path (paced, 429-aware; the worker never receives updates). */
  telegram: Telegram;
  /** Signs buttons on outbound notices (e.g. "Received" / "Not received"). */
  callbacks: CallbackCodec;
  now: () => Date;
  /** SMS fallback for recipient notices Telegram cannot deliver. */
  sms?: SmsProvider;
  /** Staff jobs: export part size, interval between progress edits. */
  staffJobs: { partBytes: number; progressEveryMs: number };
  /** The /report chart's font (staff job 'report'); without it the chart is left out. */
  chartFont?: ChartFont;
}

/** Every job the workers run. Later features add theirs here (review tasks, reminders, notices). */
export function allJobs(): AnyJob<JobDeps>[] {
  return [
    sendReminderJob as AnyJob<JobDeps>,
    sendNoticeJob as AnyJob<JobDeps>,
    cleanupDraftsJob as AnyJob<JobDeps>,
    sweepNoticesJob as AnyJob<JobDeps>,
    campaignOpeningJob as AnyJob<JobDeps>,
    staffJob as AnyJob<JobDeps>,
    ...[reviewTaskJob, reviewDigestJob, reviewSlaJob].map((j) => j as AnyJob<JobDeps>),
  ];
}
