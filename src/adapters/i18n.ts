import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './package-root.ts';

// All user-facing text lives in locales/<locale>.json (keys grouped by feature). zh-CN is the default
// and the fallback; a test keeps the key sets of all locales equal.

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export type Params = Record<string, string | number | bigint>;

const localesDir = join(packageRoot, 'locales');

function flatten(obj: unknown, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.set(key, v);
    else if (Array.isArray(v)) out.set(key, v.join('\n'));
    else if (v && typeof v === 'object') flatten(v, key, out);
  }
  return out;
}

export function loadCatalog(locale: Locale, dir = localesDir): Map<string, string> {
  return flatten(JSON.parse(readFileSync(join(dir, `${locale}.json`), 'utf8')));
}

export class I18n {
  private readonly catalogs = new Map<Locale, Map<string, string>>();

  constructor(readonly defaultLocale: Locale = 'zh-CN') {
    for (const l of LOCALES) this.catalogs.set(l, loadCatalog(l));
  }

  /** Translates `key`, filling `{name}` placeholders; an unknown key returns the key itself (and is a test failure). */
  t(locale: Locale, key: string, params: Params = {}): string {
    const template =
      this.catalogs.get(locale)?.get(key) ?? this.catalogs.get(this.defaultLocale)?.get(key) ?? key;
    return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
  }

  has(key: string): boolean {
    return this.catalogs.get(this.defaultLocale)?.has(key) ?? false;
  }

  /** Person's explicit choice, else Telegram's language_code, else the installation default. */
  resolve(explicit: string | null | undefined, telegramLanguage: string | null | undefined): Locale {
    if (explicit && (LOCALES as readonly string[]).includes(explicit)) return explicit as Locale;
    const lc = (telegramLanguage ?? '').toLowerCase();
    if (lc.startsWith('zh')) return 'zh-CN';
    if (lc.startsWith('en')) return 'en';
    return this.defaultLocale;
  }
}
