import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MessageFormatElement, parse, TYPE } from '@formatjs/icu-messageformat-parser';
import { type Formats, type Formatters, IntlMessageFormat } from 'intl-messageformat';
import { packageRoot } from './package-root.ts';

// All user-facing text lives in locales/<locale>.json (keys grouped by feature). zh-CN is the default
// and the fallback; a test keeps the key sets and the parameters of all locales equal.
//
// Messages are ICU MessageFormat (intl-messageformat), compiled once per locale and key:
//   {name}                                 the value as given (plain placeholders keep working)
//   {n, plural, one {# row} other {# rows}} plurals (English; Chinese needs none)
//   {amount, number, yuan}                 money: "800.00" in zh-CN (the message writes "元" after it),
//                                          "¥800.00" in en; the value is yuan (a number or "800.00")
//   {date, date, day}                      a calendar day: "2026年12月1日" / "Dec 1, 2026"; the value is a
//                                          Date or "YYYY-MM-DD"
// The formats live here, in `FORMATS`, and nowhere else. Unlike standard ICU, an apostrophe is always
// literal text (English has many; `'{` would otherwise silently quote a placeholder), and tags such as
// `<id>` in usage texts are plain text. A message that does not parse falls back to plain `{name}`
// substitution (the locale test fails on it).

export const LOCALES = ['zh-CN', 'en'] as const;
export type Locale = (typeof LOCALES)[number];
export type ParamValue = string | number | bigint | Date;
export type Params = Record<string, ParamValue>;

const localesDir = join(packageRoot, 'locales');

/** Named formats of `{x, number, <name>}` and `{x, date, <name>}`, per locale. */
export const FORMATS: Record<Locale, Partial<Formats>> = {
  'zh-CN': {
    number: { yuan: { minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: false } },
    date: { day: { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'UTC' } },
  },
  en: {
    number: { yuan: { style: 'currency', currency: 'CNY', currencyDisplay: 'narrowSymbol' } },
    date: { day: { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' } },
  },
};

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

/** How a message uses a parameter: as text, as a number (number format, plural) or as a date. */
export type ArgKind = 'text' | 'number' | 'date';

/** The ICU source of a catalog text: apostrophes are literal, so they are doubled for the parser. */
function icuSource(text: string): string {
  return text.replace(/'/g, "''");
}

/** Parses a catalog text as ICU (throws on a syntax error), the way `I18n` compiles it. */
export function parseMessage(text: string): MessageFormatElement[] {
  return parse(icuSource(text), { ignoreTag: true });
}

/** The parameters a message uses and how (a parameter used as a number anywhere counts as a number). */
export function messageArgs(
  ast: MessageFormatElement[],
  out = new Map<string, ArgKind>(),
): Map<string, ArgKind> {
  const set = (name: string, kind: ArgKind) => {
    if (kind !== 'text' || !out.has(name)) out.set(name, kind);
  };
  for (const el of ast) {
    switch (el.type) {
      case TYPE.argument:
        set(el.value, 'text');
        break;
      case TYPE.number:
        set(el.value, 'number');
        break;
      case TYPE.date:
      case TYPE.time:
        set(el.value, 'date');
        break;
      case TYPE.plural:
        set(el.value, 'number');
        for (const o of Object.values(el.options)) messageArgs(o.value, out);
        break;
      case TYPE.select:
        set(el.value, 'text');
        for (const o of Object.values(el.options)) messageArgs(o.value, out);
        break;
      case TYPE.tag:
        messageArgs(el.children, out);
        break;
      default:
        break;
    }
  }
  return out;
}

// Intl formatters for the compiled messages, cached by locale and options object. intl-messageformat's
// own cache serializes its arguments on every call; the options here are the same objects call after
// call (the named formats of one compiled message), so an identity cache is enough and much cheaper.
const NO_OPTIONS = {};
function identityCached<T>(make: (locales: string | string[], opts: object) => T) {
  const cache = new WeakMap<object, Map<string, T>>();
  return (locales: string | string[], opts?: object): T => {
    const o = opts ?? NO_OPTIONS;
    const key = String(locales);
    let byLocale = cache.get(o);
    if (!byLocale) {
      byLocale = new Map();
      cache.set(o, byLocale);
    }
    let f = byLocale.get(key);
    if (!f) {
      f = make(locales, o);
      byLocale.set(key, f);
    }
    return f;
  };
}
const pluralRules = new Map<string, Intl.PluralRules>();
const FORMATTERS = {
  getNumberFormat: identityCached((l, o) => new Intl.NumberFormat(l, o)),
  getDateTimeFormat: identityCached((l, o) => new Intl.DateTimeFormat(l, o)),
  getPluralRules: (locales: string | string[], opts?: Intl.PluralRulesOptions) => {
    const key = `${String(locales)}|${opts?.type ?? 'cardinal'}`;
    let rules = pluralRules.get(key);
    if (!rules) {
      rules = new Intl.PluralRules(locales, opts);
      pluralRules.set(key, rules);
    }
    return rules;
  },
};

interface Compiled {
  format: (params: Params) => string;
}

const DAY_RE = /^(\d{4})-(\d{2})-(\d{2})$/;

function toNumber(v: ParamValue): number | string {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v.replace(/,/g, ''))))
    return Number(v.replace(/,/g, ''));
  return String(v);
}

function toDate(v: ParamValue): Date | string {
  if (v instanceof Date) return v;
  if (typeof v === 'string') {
    const m = DAY_RE.exec(v);
    if (m) return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    const d = new Date(v);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return String(v);
}

/** The pre-ICU substitution: a fallback for a text that does not parse. */
function substitute(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m));
}

function compile(locale: Locale, text: string): Compiled {
  let mf: IntlMessageFormat;
  try {
    mf = new IntlMessageFormat(icuSource(text), locale, FORMATS[locale], {
      ignoreTag: true,
      formatters: FORMATTERS as Formatters,
    });
  } catch {
    return { format: (params) => substitute(text, params) };
  }
  const ast = mf.getAst();
  const args = [...messageArgs(ast)];
  if (args.length === 0) {
    const constant = String(mf.format());
    return { format: () => constant };
  }
  // Most messages are text and plain placeholders only: joined directly, without the ICU formatter.
  if (ast.every((el) => el.type === TYPE.literal || el.type === TYPE.argument)) {
    const parts = ast.map((el) => (el.type === TYPE.literal ? el.value : { name: el.value }));
    return {
      format: (params) => {
        let out = '';
        for (const p of parts) {
          if (typeof p === 'string') out += p;
          else {
            const v = params[p.name];
            out += v === undefined ? `{${p.name}}` : v instanceof Date ? v.toISOString() : String(v);
          }
        }
        return out;
      },
    };
  }
  return {
    format: (params) => {
      const values: Record<string, string | number | Date> = {};
      let plain = false;
      for (const [name, kind] of args) {
        const v = params[name];
        if (v === undefined) {
          values[name] = `{${name}}`; // as before: a missing value shows its name
          plain ||= kind !== 'text';
        } else if (kind === 'number') {
          values[name] = toNumber(v);
          plain ||= typeof values[name] !== 'number';
        } else if (kind === 'date') {
          values[name] = toDate(v);
          plain ||= !(values[name] instanceof Date);
        } else values[name] = typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : v;
      }
      // A value that is no number (or no day) where the message formats one: shown as given.
      if (plain) return plainFormat(ast, locale, values);
      try {
        return String(mf.format(values));
      } catch {
        return plainFormat(ast, locale, values);
      }
    },
  };
}

/**
 * Formats `ast` without failing: numbers and days are formatted when the value is one, other values are
 * shown as given (a missing one as `{name}`); a plural whose count is no number takes its `other` form.
 */
function plainFormat(
  ast: MessageFormatElement[],
  locale: Locale,
  values: Record<string, string | number | Date>,
  pound?: string,
): string {
  let out = '';
  for (const el of ast) {
    switch (el.type) {
      case TYPE.literal:
        out += el.value;
        break;
      case TYPE.argument:
        out += String(values[el.value]);
        break;
      case TYPE.number: {
        const v = values[el.value];
        const style = typeof el.style === 'string' ? FORMATS[locale].number?.[el.style] : undefined;
        out += typeof v === 'number' ? FORMATTERS.getNumberFormat(locale, style).format(v) : String(v);
        break;
      }
      case TYPE.date:
      case TYPE.time: {
        const v = values[el.value];
        const style = typeof el.style === 'string' ? FORMATS[locale].date?.[el.style] : undefined;
        out += v instanceof Date ? FORMATTERS.getDateTimeFormat(locale, style).format(v) : String(v);
        break;
      }
      case TYPE.plural: {
        const v = values[el.value];
        const n = typeof v === 'number' ? v - el.offset : undefined;
        const rule =
          n === undefined ? 'other' : FORMATTERS.getPluralRules(locale, { type: el.pluralType }).select(n);
        const option =
          (n !== undefined ? el.options[`=${n}`] : undefined) ?? el.options[rule] ?? el.options.other;
        const hash = n === undefined ? String(v) : FORMATTERS.getNumberFormat(locale).format(n);
        out += option ? plainFormat(option.value, locale, values, hash) : '';
        break;
      }
      case TYPE.select: {
        const option = el.options[String(values[el.value])] ?? el.options.other;
        out += option ? plainFormat(option.value, locale, values, pound) : '';
        break;
      }
      case TYPE.pound:
        out += pound ?? '#';
        break;
      case TYPE.tag:
        out += plainFormat(el.children, locale, values, pound);
        break;
    }
  }
  return out;
}

export class I18n {
  private readonly catalogs = new Map<Locale, Map<string, string>>();
  /** Compiled messages per locale and key, filled on first use. */
  private readonly compiled = new Map<Locale, Map<string, Compiled>>();

  constructor(readonly defaultLocale: Locale = 'zh-CN') {
    for (const l of LOCALES) {
      this.catalogs.set(l, loadCatalog(l));
      this.compiled.set(l, new Map());
    }
  }

  /** Translates `key` with `params` (ICU, see above); an unknown key returns the key itself (and is a test failure). */
  t(locale: Locale, key: string, params: Params = {}): string {
    const cache = this.compiled.get(locale) ?? this.compiled.get(this.defaultLocale)!;
    let message = cache.get(key);
    if (!message) {
      const own = this.catalogs.get(locale)?.get(key);
      const text = own ?? this.catalogs.get(this.defaultLocale)?.get(key);
      // A key missing in this locale is formatted with the default locale's rules.
      message =
        text === undefined
          ? { format: () => key }
          : compile(own !== undefined ? locale : this.defaultLocale, text);
      cache.set(key, message);
    }
    return message.format(params);
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
