import type { BotMessageView, ButtonView, TranscriptEntry } from './types.ts';

export type MessageMatch = string | RegExp | ((m: BotMessageView) => boolean);
export type ButtonTarget =
  | string
  | RegExp
  | ((button: ButtonView, message: BotMessageView) => boolean)
  | { messageId: number; data: string };

export interface WaitOptions {
  /** Only messages with a higher message_id count (default: this user's last message sent through the handle). */
  after?: number;
  match?: MessageMatch;
  /** Default 10 000 ms. */
  timeoutMs?: number;
}

export interface ChangeWaitOptions {
  /** Chat activity seq to wait beyond (see UserActionResult.chatSeq). */
  since: number;
  match?: MessageMatch;
  timeoutMs?: number;
  /** Only edits of existing messages (default: any change). */
  editsOnly?: boolean;
  /**
   * Each message's latest edit only, not its whole edit history: a card edited thousands of times (the
   * review benchmark) would otherwise send every earlier text on every wait.
   */
  latestEditOnly?: boolean;
}

/** Text a matcher looks at: text, caption and document file name. */
export const searchableText = (m: BotMessageView): string =>
  [m.text, m.caption, m.document?.file_name].filter((s) => s !== undefined).join('\n');

export function matches(m: BotMessageView, match: MessageMatch | undefined): boolean {
  if (match === undefined) return true;
  if (typeof match === 'function') return match(m);
  const text = searchableText(m);
  return typeof match === 'string' ? text.includes(match) : match.test(text);
}

/** Human-readable chat dump for failure messages. */
export function describeTranscript(entries: TranscriptEntry[], messages: BotMessageView[]): string {
  if (entries.length === 0) return '  (nothing — the chat is empty)';
  const byId = new Map(messages.map((m) => [m.messageId, m]));
  return entries
    .map((e) => {
      if (e.from === 'user') {
        if (e.callbackData !== undefined)
          return `  user  ⟶ pressed button [${e.callbackData}] on #${e.messageId}`;
        return `  user  #${e.messageId}: ${e.text ?? e.caption ?? ''}${e.document ? ` 📎 ${e.document.file_name}` : ''}`;
      }
      const m = byId.get(e.messageId);
      const now = m ? searchableText(m) : (e.text ?? '');
      const buttons = m?.buttons.length ? `  [${m.buttons.map((b) => b.text).join('] [')}]` : '';
      const flags = `${m?.edits.length ? ` (edited ×${m.edits.length})` : ''}${m?.deleted ? ' (deleted)' : ''}`;
      return `  bot   #${e.messageId}${flags}: ${now.replace(/\n/g, '\n          ')}${buttons}`;
    })
    .join('\n');
}

export const describeMatch = (match: MessageMatch | undefined): string =>
  match === undefined
    ? 'any message'
    : typeof match === 'function'
      ? 'a message matching the predicate'
      : String(match);
