import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { I18n, loadCatalog, LOCALES } from '../../src/adapters/i18n.ts';

// Every locale has exactly the same keys and placeholders, and every key the code uses exists.

describe('locales', () => {
  const zh = loadCatalog('zh-CN');
  const en = loadCatalog('en');

  it('zh-CN and en have the same keys', () => {
    expect([...en.keys()].filter((k) => !zh.has(k))).toEqual([]);
    expect([...zh.keys()].filter((k) => !en.has(k))).toEqual([]);
  });

  it('use the same placeholders', () => {
    const ph = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const mismatched = [...zh.keys()].filter(
      (k) => JSON.stringify(ph(zh.get(k)!)) !== JSON.stringify(ph(en.get(k) ?? '')),
    );
    expect(mismatched).toEqual([]);
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
