import type { Note } from '../../../../usecases/nominations/answer-nomination.ts';
import type { BotContext, DialogState } from '../../context.ts';

// Side notes of a dialog answer (quota left, an earlier campaign, a warning) ride along with the next
// question instead of arriving as messages of their own: one message per step. The session holds them
// as locale keys with non-personal parameters until the next prompt is sent.

/** A note in the user's language: '@key' parameters are locale keys; xZh / xEn pairs become x. */
export function noteText(ctx: BotContext, note: Note): string {
  const params: Record<string, string | number> = {};
  for (const [k, v] of Object.entries(note.params)) {
    if (/Zh$/.test(k)) {
      if (ctx.locale !== 'en') params[k.slice(0, -2)] = v;
    } else if (/En$/.test(k)) {
      if (ctx.locale === 'en') params[k.slice(0, -2)] = v;
    } else params[k] = typeof v === 'string' && v.startsWith('@') ? ctx.t(v.slice(1)) : v;
  }
  return ctx.t(note.key, params);
}

export const notesText = (ctx: BotContext, notes: readonly Note[]) =>
  notes.map((n) => noteText(ctx, n)).join('\n');

export function keepNotes(state: DialogState, notes: readonly Note[]): void {
  if (notes.length === 0) return;
  const earlier = state.data['notes'] ? (JSON.parse(String(state.data['notes'])) as Note[]) : [];
  state.data['notes'] = JSON.stringify([...earlier, ...notes]);
}

/** The kept notes as lines ahead of a question (and forgotten). */
export function takeNotes(ctx: BotContext, state: DialogState): string {
  const raw = state.data['notes'];
  if (!raw) return '';
  delete state.data['notes'];
  const text = notesText(ctx, JSON.parse(String(raw)) as Note[]);
  return text ? `${text}\n\n` : '';
}
