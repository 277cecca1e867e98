import type { Redis } from 'ioredis';
import type { Telegraf } from 'telegraf';
import type { InlineKeyboardButton } from 'telegraf/types';
import type { FieldCipher } from '../crypto/field-cipher.ts';
import type { Db } from '../db/client.ts';
import type { ChartFont } from '../files/chart-font.ts';
import type { I18n } from '../i18n.ts';
import type { Logger } from '../logger.ts';
import type { Metrics } from '../http/metrics.ts';
import type { Queues } from '../queue/queues.ts';
import { isReadOnly, type RoleName } from '../../domain/roles.ts';
import type { CallbackCodec } from './callback-data.ts';
import type { BotContext, DialogState } from './context.ts';

// The small framework every chat feature plugs into: commands with the roles allowed to use them,
// verified callback actions, and resumable dialogs whose state lives in the Redis session.

export interface BotDeps {
  db: Db;
  redis: Redis;
  cipher: FieldCipher;
  i18n: I18n;
  logger: Logger;
  metrics: Metrics;
  /** Producer side of the job queues (e.g. re-syncing reminders after a change). */
  queues: Queues;
  callbacks: CallbackCodec;
  inviteTtlDays: number;
  /** The report chart's fonts (resolved once per process; no fonts: /report sends the figures as text). */
  chartFont: ChartFont;
  /** Bot username for deep links (filled in at start from getMe). */
  botUsername: () => string;
  now: () => Date;
}

export type Access = readonly RoleName[] | 'anyone';

/**
 * Who may use a command, button, dialog or deep link. `readOnly: true` declares that it changes no
 * record: only such entries are open to read-only roles (auditors, domain/roles `isReadOnly`); every
 * other one refuses them, whatever its `access`, so a new changing command is closed to auditors by
 * default (test/e2e/auditor.test.ts walks the whole registry).
 */
export interface Guard {
  access: Access;
  readOnly?: boolean;
}

export interface CommandSpec extends Guard {
  name: string;
  /** Shown in the command menu and /help for these roles (defaults to access). */
  handler: (ctx: BotContext, args: string) => Promise<unknown>;
}

export interface CallbackSpec extends Guard {
  action: string;
  handler: (ctx: BotContext, args: string[]) => Promise<unknown>;
}

export type StepResult = { next: string } | { stay: true } | { end: true };

export interface DialogStep {
  /** Asks the question for this step (also used when a dialog resumes). */
  prompt: (ctx: BotContext, state: DialogState) => Promise<unknown>;
  /** Handles a text answer; omit for steps answered with buttons only. */
  onText?: (ctx: BotContext, text: string, state: DialogState) => Promise<StepResult>;
}

export interface DialogSpec extends Guard {
  name: string;
  first: string;
  steps: Record<string, DialogStep>;
}

export interface DeepLinkSpec {
  /** Payload prefix after /start, e.g. "inv_". */
  prefix: string;
  /** Changes no record (see Guard). */
  readOnly?: boolean;
  handler: (ctx: BotContext, rest: string) => Promise<unknown>;
}

/** The dialog runner as features see it (implemented in dialogs.ts). */
export interface DialogControl {
  start(ctx: BotContext, name: string, data?: DialogState['data']): Promise<void>;
  reprompt(ctx: BotContext): Promise<boolean>;
  apply(ctx: BotContext, result: StepResult): Promise<void>;
  cancel(ctx: BotContext): boolean;
}

/** What features get from the bot shell when they are built. */
export interface ShellApi {
  dialogs: DialogControl;
  syncMenu: (chatId: number, roles: ReadonlySet<RoleName>, locale: 'zh-CN' | 'en') => Promise<void>;
  /** Filled after all features are built; read at run time. */
  deepLinks: Map<string, DeepLinkSpec>;
  /** Every command, for /help. */
  commands: Map<string, CommandSpec>;
}

export interface Feature {
  deepLinks?: DeepLinkSpec[];
  commands?: CommandSpec[];
  callbacks?: CallbackSpec[];
  dialogs?: DialogSpec[];
  /** Extra wiring (e.g. document handlers). */
  install?: (bot: Telegraf<BotContext>) => void;
}

/**
 * Runs follow-up work (e.g. re-syncing reminders after a change) without holding up the reply; a
 * failure is logged, never shown to the user: the worker's start-up sync and later changes repair it.
 */
export function inBackground(deps: BotDeps, what: string, work: () => Promise<unknown>): void {
  void work().catch((err: unknown) => deps.logger.warn({ err, what }, 'background follow-up failed'));
}

/** Whether a set of roles may use `g` (the one access rule: commands, buttons, dialogs, menus). */
export function mayUse(roles: ReadonlySet<RoleName>, g: Guard): boolean {
  if (isReadOnly(roles) && g.readOnly !== true) return false;
  if (g.access === 'anyone') return true;
  return g.access.some((r) => roles.has(r));
}

export function allowed(ctx: BotContext, g: Guard): boolean {
  return mayUse(ctx.who.access.roles, g);
}

/** The refusal for `g`: read-only roles are told they cannot change anything. */
export function refusal(ctx: BotContext, g: Guard): string {
  return isReadOnly(ctx.who.access.roles) && g.readOnly !== true
    ? ctx.t('auditor.read_only')
    : ctx.t('errors.forbidden');
}

/** An inline button whose callback data is signed for the current user. */
export function button(
  deps: BotDeps,
  ctx: BotContext,
  text: string,
  action: string,
  ...args: (string | number)[]
): InlineKeyboardButton {
  return { text, callback_data: deps.callbacks.encode(ctx.from!.id, action, ...args) };
}
