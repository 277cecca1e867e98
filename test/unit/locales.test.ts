import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { I18n, loadCatalog, LOCALES, messageArgs, parseMessage } from '../../src/adapters/i18n.ts';

// Every locale has exactly the same keys and parameters, every message is ICU MessageFormat, and every
// key the code uses exists.

describe('locales', () => {
  const zh = loadCatalog('zh-CN');
  const en = loadCatalog('en');

  it('zh-CN and en have the same keys', () => {
    expect([...en.keys()].filter((k) => !zh.has(k))).toEqual([]);
    expect([...zh.keys()].filter((k) => !en.has(k))).toEqual([]);
  });

  it('every message parses as ICU MessageFormat', () => {
    const broken: string[] = [];
    for (const [locale, catalog] of [
      ['zh-CN', zh],
      ['en', en],
    ] as const) {
      for (const [k, v] of catalog) {
        try {
          parseMessage(v);
        } catch (err) {
          broken.push(`${locale} ${k}: ${(err as Error).message}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('use the same parameters (also those inside plurals and formats)', () => {
    const names = (s: string) => [...messageArgs(parseMessage(s)).keys()].sort().join(',');
    const mismatched = [...zh.keys()]
      .filter((k) => en.has(k) && names(zh.get(k)!) !== names(en.get(k)!))
      .map((k) => `${k}: zh-CN {${names(zh.get(k)!)}} en {${names(en.get(k)!)}}`);
    expect(mismatched).toEqual([]);
  });

  it('use the same money and date formats for the same parameter', () => {
    const formatted = (s: string) =>
      [
        ...new Set(
          [...s.matchAll(/\{\s*(\w+)\s*,\s*(number|date)\s*,\s*(\w+)\s*\}/g)].map((m) => `${m[1]}:${m[3]}`),
        ),
      ].sort();
    const mismatched = [...zh.keys()].filter(
      (k) => en.has(k) && JSON.stringify(formatted(zh.get(k)!)) !== JSON.stringify(formatted(en.get(k)!)),
    );
    expect(mismatched).toEqual([]);
  });

  it('formats plurals, amounts and days the way each language reads', () => {
    const i18n = new I18n('zh-CN');
    expect(i18n.t('en', 'upload.submit_button', { count: 1 })).toBe('Submit 1 valid row');
    expect(i18n.t('en', 'upload.submit_button', { count: 2 })).toBe('Submit 2 valid rows');
    expect(i18n.t('en', 'upload.submit_button', { count: 1200 })).toBe('Submit 1,200 valid rows');
    expect(i18n.t('en', 'entry.unknown', { count: 1, ids: '7' })).toBe('1 number does not exist: 7');
    expect(i18n.t('en', 'entry.unknown', { count: 3, ids: '7, 8, 9' })).toBe(
      '3 numbers do not exist: 7, 8, 9',
    );
    // Amounts: the code passes yuan as a number or as the "800.00" text the domain formats.
    expect(i18n.t('zh-CN', 'money.amount', { amount: '800.00' })).toBe('800.00 元');
    expect(i18n.t('en', 'money.amount', { amount: '800.00' })).toBe('¥800.00');
    expect(i18n.t('en', 'money.amount', { amount: 150000 })).toBe('¥150,000.00');
    expect(i18n.t('zh-CN', 'money.amount', { amount: 99.5 })).toBe('99.50 元');
    expect(i18n.t('en', 'review.bulk_preview', { n: 1, total: '750.00' })).toBe(
      'This approves 1 nomination, ¥750.00 in total. Please confirm.',
    );
    // Days: "YYYY-MM-DD" (or a Date) in, the language's date out, never shifted by the time zone.
    expect(i18n.t('zh-CN', 'payments.handover_done', { id: 5, date: '2026-02-10' })).toBe(
      '已登记申报 5 的实物发放（2026年2月10日）。',
    );
    expect(i18n.t('en', 'payments.handover_done', { id: 5, date: '2026-02-10' })).toBe(
      'Handover of nomination 5 recorded (Feb 10, 2026).',
    );
  });

  it('keeps plain {param} placeholders, apostrophes and <tags> as they were', () => {
    const i18n = new I18n('zh-CN');
    // A missing value shows its placeholder (as the hand-written substitution did), bigint is printed.
    expect(i18n.t('en', 'admin.granted', { id: 12345678901234567890n })).toBe(
      '12345678901234567890 is now {role}.',
    );
    const apostrophe = [...en.entries()].find(([, v]) => v.includes("'") && !v.includes('{'));
    expect(apostrophe, 'some English message has an apostrophe').toBeDefined();
    expect(i18n.t('en', apostrophe![0])).toBe(apostrophe![1]);
    const tag = [...en.entries()].find(([, v]) => /<\w+>/.test(v) && !v.includes('{'));
    if (tag) expect(i18n.t('en', tag[0])).toBe(tag[1]);
    // Where a message formats a number or a day, a missing value shows its name and a value that is no
    // number is shown as given (tests build patterns from messages this way); a plural takes "other".
    expect(i18n.t('zh-CN', 'money.amount')).toBe('{amount} 元');
    expect(i18n.t('en', 'upload.submit_button')).toBe('Submit {count} valid rows');
    expect(i18n.t('en', 'money.amount', { amount: '—' })).toBe('—');
    expect(i18n.t('zh-CN', 'payments.handover_done', { id: 5, date: '下周' })).toBe(
      '已登记申报 5 的实物发放（下周）。',
    );
    // Compiled once: the same call again gives the same text (from the cache).
    expect(i18n.t('en', 'upload.submit_button', { count: 2 })).toBe(
      i18n.t('en', 'upload.submit_button', { count: 2 }),
    );
  });

  it('Chinese texts use Chinese punctuation, not ASCII commas between Chinese characters', () => {
    const bad = [...zh.entries()]
      .filter(([, v]) => /[\u4e00-\u9fff],[\u4e00-\u9fff]/.test(v))
      .map(([k]) => k);
    expect(bad).toEqual([]);
  });

  it('every literal key used in the source exists', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        const p = join(dir, e.name);
        if (e.isDirectory() && e.name !== 'generated') walk(p);
        else if (e.name.endsWith('.ts')) files.push(p);
      }
    };
    walk('src');
    const missing = new Set<string>();
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      for (const m of text.matchAll(/\bt\(\s*'([a-z_]+(?:\.[A-Za-z0-9_-]+)+)'/g))
        if (!zh.has(m[1]!)) missing.add(`${f}: ${m[1]}`);
    }
    expect([...missing]).toEqual([]);
  });

  it('resolves the language from the choice, then Telegram, then the default', () => {
    const i18n = new I18n('zh-CN');
    expect(LOCALES).toEqual(['zh-CN', 'en']);
    expect(i18n.resolve(null, 'en-GB')).toBe('en');
    expect(i18n.resolve(null, 'zh-hans')).toBe('zh-CN');
    expect(i18n.resolve(null, 'ru')).toBe('zh-CN');
    expect(i18n.resolve('en', 'zh-hans')).toBe('en');
    expect(i18n.t('en', 'admin.granted', { id: '1', role: 'reviewer' })).toBe('1 is now reviewer.');
  });
});
