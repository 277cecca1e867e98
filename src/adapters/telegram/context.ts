import type { Context } from 'telegraf';
import type { Locale, Params } from '../i18n.ts';
import type { PersonView } from '../../usecases/people.ts';

/** A dialog in progress. Only ids, the step and short answers: authoritative data lives in PostgreSQL. */
export interface DialogState {
  name: string;
  step: string;
  data: Record<string, string | number | boolean | null>;
  startedAt: number;
}

export interface Session {
  dialog?: DialogState;
}

export interface BotContext extends Context {
  session: Session;
  who: PersonView;
  locale: Locale;
  t: (key: string, params?: Params) => string;
  requestId: string;
}
