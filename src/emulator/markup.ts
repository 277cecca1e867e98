import { badRequest } from './errors.ts';
import type { ButtonView, TgInlineButton, TgReplyMarkup } from './types.ts';

const INLINE_ACTIONS = [
  'callback_data',
  'url',
  'web_app',
  'login_url',
  'switch_inline_query',
  'switch_inline_query_current_chat',
  'switch_inline_query_chosen_chat',
  'copy_text',
  'callback_game',
  'pay',
];

/** Validates a reply_markup like Telegram does (inline keyboards strictly, others loosely). */
export function validateMarkup(markup: unknown): TgReplyMarkup | undefined {
  if (markup === undefined || markup === null) return undefined;
  if (typeof markup !== 'object' || Array.isArray(markup)) {
    throw badRequest("can't parse reply keyboard markup JSON object");
  }
  const m = markup as Record<string, unknown>;
  if ('inline_keyboard' in m) {
    const rows = m['inline_keyboard'];
    if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r))) {
      throw badRequest('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays');
    }
    for (const row of rows as unknown[][]) {
      for (const b of row) {
        if (!b || typeof b !== 'object')
          throw badRequest("can't parse inline keyboard button: InlineKeyboardButton must be an Object");
        const button = b as Record<string, unknown>;
        if (typeof button['text'] !== 'string')
          throw badRequest('can\'t parse inline keyboard button: Field "text" must be of type String');
        if (button['text'] === '') throw badRequest('BUTTON_TEXT_INVALID');
        if (!INLINE_ACTIONS.some((k) => button[k] !== undefined)) {
          throw badRequest('text buttons are unallowed in the inline keyboard');
        }
        const data = button['callback_data'];
        if (data !== undefined) {
          if (typeof data !== 'string')
            throw badRequest(
              'can\'t parse inline keyboard button: Field "callback_data" must be of type String',
            );
          const bytes = Buffer.byteLength(data, 'utf8');
          if (bytes < 1 || bytes > 64) throw badRequest('BUTTON_DATA_INVALID');
        }
        const url = button['url'];
        if (url !== undefined && (typeof url !== 'string' || !/^(https?|tg):\/\/\S+$/i.test(url))) {
          throw badRequest('BUTTON_URL_INVALID');
        }
      }
    }
    return markup as TgReplyMarkup;
  }
  if ('keyboard' in m) {
    const rows = m['keyboard'];
    if (!Array.isArray(rows) || rows.some((r) => !Array.isArray(r))) {
      throw badRequest('field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays');
    }
    return markup as TgReplyMarkup;
  }
  if ('remove_keyboard' in m || 'force_reply' in m) return markup as TgReplyMarkup;
  throw badRequest("can't parse reply keyboard markup JSON object");
}

export const inlineRows = (markup: TgReplyMarkup | undefined): TgInlineButton[][] | undefined =>
  markup && 'inline_keyboard' in markup ? markup.inline_keyboard : undefined;

export function flattenButtons(markup: TgReplyMarkup | undefined): ButtonView[] {
  const rows = inlineRows(markup) ?? [];
  return rows.flatMap((row, r) =>
    row.map((b, c) => ({
      text: b.text,
      row: r,
      col: c,
      ...(b.callback_data !== undefined ? { callbackData: b.callback_data } : {}),
      ...(b.url !== undefined ? { url: b.url } : {}),
    })),
  );
}

export function keyboardLabels(markup: TgReplyMarkup | undefined): string[][] | undefined {
  if (!markup || !('keyboard' in markup)) return undefined;
  return markup.keyboard.map((row) => row.map((b) => (typeof b === 'string' ? b : b.text)));
}
