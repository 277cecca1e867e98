import { badRequest } from './errors.ts';
import type { TgBotCommand } from './types.ts';

interface Scope {
  type?: string;
  chat_id?: number | string;
  user_id?: number;
}

const SCOPES = new Set([
  'default',
  'all_private_chats',
  'all_group_chats',
  'all_chat_administrators',
  'chat',
  'chat_administrators',
  'chat_member',
]);

export function scopeKey(scope: Scope | undefined): string {
  const type = scope?.type ?? 'default';
  if (!SCOPES.has(type)) throw badRequest('wrong parameter scope');
  if (type === 'chat' || type === 'chat_administrators') {
    if (scope?.chat_id === undefined) throw badRequest('chat not found');
    return `${type}:${scope.chat_id}`;
  }
  if (type === 'chat_member') return `${type}:${scope?.chat_id}:${scope?.user_id}`;
  return type;
}

function checkLanguage(code: string | undefined): string {
  const lang = code ?? '';
  if (lang !== '' && !/^[a-z]{2}$/.test(lang)) throw badRequest('invalid language code specified');
  return lang;
}

/** setMyCommands storage per (scope, language_code) with Telegram's private-chat fallback. */
export class CommandStore {
  private readonly sets = new Map<string, TgBotCommand[]>();

  set(commands: unknown, scope: Scope | undefined, languageCode: string | undefined): void {
    if (!Array.isArray(commands)) throw badRequest('parameter "commands" must be an Array');
    if (commands.length > 100) throw badRequest('too many commands specified');
    const clean: TgBotCommand[] = commands.map((c: unknown) => {
      const cmd = c as Partial<TgBotCommand> | null;
      const command = typeof cmd?.command === 'string' ? cmd.command.replace(/^\//, '') : '';
      if (!/^[a-z0-9_]{1,32}$/.test(command)) throw badRequest('BOT_COMMAND_INVALID');
      const description = typeof cmd?.description === 'string' ? cmd.description.trim() : '';
      if (description.length < 1 || description.length > 256)
        throw badRequest('BOT_COMMAND_DESCRIPTION_INVALID');
      return { command, description };
    });
    const key = `${scopeKey(scope)}|${checkLanguage(languageCode)}`;
    if (clean.length === 0) this.sets.delete(key);
    else this.sets.set(key, clean);
  }

  get(scope: Scope | undefined, languageCode: string | undefined): TgBotCommand[] {
    return this.sets.get(`${scopeKey(scope)}|${checkLanguage(languageCode)}`) ?? [];
  }

  delete(scope: Scope | undefined, languageCode: string | undefined): void {
    this.sets.delete(`${scopeKey(scope)}|${checkLanguage(languageCode)}`);
  }

  /** What a private-chat user sees: chat > all_private_chats > default, each with language then without. */
  resolveForPrivateChat(chatId: number, userLanguage: string | undefined): TgBotCommand[] {
    const lang = (userLanguage ?? '').slice(0, 2).toLowerCase();
    for (const scope of [`chat:${chatId}`, 'all_private_chats', 'default']) {
      for (const l of lang ? [lang, ''] : ['']) {
        const found = this.sets.get(`${scope}|${l}`);
        if (found) return found;
      }
    }
    return [];
  }
}
