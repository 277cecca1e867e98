import { loadCatalog, LOCALES } from '../adapters/i18n.ts';
import type { WebPageOptions, WebPerson } from '../emulator/web.ts';
import { DEMO_PEOPLE, DEMO_RECIPIENT } from './seed-demo.ts';

// What the sandbox's web page (src/emulator/web) shows at first: the demo's people (npm run seed:demo)
// side by side, and its own texts from the locales' `sandbox_web` section.

export function sandboxWebPeople(): WebPerson[] {
  const shortName = (name: string) => name.replace(/（.*）$/, '');
  return [
    ...DEMO_PEOPLE.map((p) => ({
      id: Number(p.telegramId),
      name: shortName(p.name),
      role: `role_${p.role}`,
    })),
    { id: Number(DEMO_RECIPIENT.telegramId), name: shortName(DEMO_RECIPIENT.name), role: 'role_recipient' },
  ];
}

export function sandboxWebOptions(defaultLanguage: string = 'zh-CN'): WebPageOptions {
  const strings: Record<string, Record<string, string>> = {};
  for (const locale of LOCALES) {
    strings[locale] = Object.fromEntries(
      [...loadCatalog(locale)]
        .filter(([key]) => key.startsWith('sandbox_web.'))
        .map(([key, text]) => [key.slice('sandbox_web.'.length), text]),
    );
  }
  return { strings, people: sandboxWebPeople(), defaultLanguage };
}
