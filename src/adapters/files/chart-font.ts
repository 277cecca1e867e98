import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../package-root.ts';

// Which fonts draw the chart's words. resvg runs with system fonts off (a render never depends on the
// machine's font configuration by accident), so the files are chosen here, in this order:
//   1. CHART_FONT (config): a font file the installation chose;
//   2. the font shipped in the repository, assets/fonts/WarmthChartSans-Regular.otf: a subset of Noto Sans
//      CJK SC (SIL OFL 1.1; ASCII, Latin-1, GB2312 level 1 and every character of the locales and
//      campaign files; made by scripts/fonts/make-chart-font.py);
//   3. fontconfig's match for `:lang=zh` (`fc-match`), when it really is a Chinese font.
// The first one found draws the chart; a system Chinese font, when there is one, is loaded as well so a
// character outside the subset (a rare name) falls back to it instead of vanishing. `missingChars` tells
// which characters no loaded font has (the report logs them; `npm run doctor` names the fix).

export const BUNDLED_CHART_FONT = join(packageRoot, 'assets', 'fonts', 'WarmthChartSans-Regular.otf');

export type ChartFontSource = 'config' | 'bundled' | 'system';

export interface ChartFontFile {
  file: string;
  family: string;
  source: ChartFontSource;
  /** Unicode code points the font has a glyph for. */
  coverage: Set<number>;
}

export interface ChartFont {
  /** Primary font first, then the system fallback (if any). Empty: no font, the chart has no words. */
  fonts: ChartFontFile[];
  /** Problems met on the way (e.g. CHART_FONT names a file that does not exist). */
  problems: string[];
}

export interface ResolveOptions {
  /** CHART_FONT from the config. */
  configured?: string | undefined;
  /** The shipped font (tests pass a missing path to simulate its absence). */
  bundled?: string;
  /** fontconfig's Chinese font; default runs `fc-match :lang=zh` (undefined when there is none). */
  systemFont?: () => string | undefined;
}

/** fontconfig's best font for Chinese, if it really covers Chinese (fc-match always answers something). */
export function fcMatchChinese(): string | undefined {
  try {
    const out = execFileSync('fc-match', ['--format=%{file}\n%{lang}', ':lang=zh-cn'], {
      encoding: 'utf8',
      timeout: 3000,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const [file, langs] = out.split('\n');
    if (!file || !langs?.split('|').some((l) => l === 'zh-cn' || l === 'zh')) return undefined;
    return file;
  } catch {
    return undefined; // no fontconfig on this machine
  }
}

function load(file: string, source: ChartFontSource): ChartFontFile {
  const bytes = readFileSync(file);
  const info = readFontInfo(bytes);
  return { file, source, family: info.family, coverage: info.coverage };
}

export function resolveChartFont(opts: ResolveOptions = {}): ChartFont {
  const problems: string[] = [];
  const fonts: ChartFontFile[] = [];
  const tryLoad = (file: string, source: ChartFontSource) => {
    try {
      fonts.push(load(file, source));
      return true;
    } catch (err) {
      problems.push(`${file}: ${(err as Error).message}`);
      return false;
    }
  };
  if (opts.configured) {
    if (!existsSync(opts.configured)) problems.push(`CHART_FONT=${opts.configured} does not exist`);
    else tryLoad(opts.configured, 'config');
  }
  const bundled = opts.bundled ?? BUNDLED_CHART_FONT;
  if (fonts.length === 0 && existsSync(bundled)) tryLoad(bundled, 'bundled');
  const system = (opts.systemFont ?? fcMatchChinese)();
  if (system && !fonts.some((f) => f.file === system)) tryLoad(system, 'system');
  return { fonts, problems };
}

let cached: { key: string; font: ChartFont } | undefined;

/** resolveChartFont for the process's CHART_FONT, resolved once (fc-match is a child process). */
export function chartFont(configured: string | undefined): ChartFont {
  const key = configured ?? '';
  if (cached?.key !== key) cached = { key, font: resolveChartFont({ configured }) };
  return cached.font;
}

/** The characters of `text` (other than spaces and controls) that none of the fonts can draw. */
export function missingChars(font: ChartFont, text: string): string[] {
  const missing = new Set<string>();
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if (cp <= 0x20 || (cp >= 0x7f && cp < 0xa0)) continue;
    if (!font.fonts.some((f) => f.coverage.has(cp))) missing.add(ch);
  }
  return [...missing];
}

// --- A minimal OpenType reader: the family name (name table) and the character map (cmap). ------------

/** Family name and covered code points of an OTF/TTF file or the first font of a TTC collection. */
export function readFontInfo(bytes: Buffer): { family: string; coverage: Set<number> } {
  let base = 0;
  if (bytes.toString('latin1', 0, 4) === 'ttcf') base = bytes.readUInt32BE(12);
  const sfnt = bytes.readUInt32BE(base);
  if (sfnt !== 0x00010000 && sfnt !== 0x4f54544f && sfnt !== 0x74727565) throw new Error('not a font file');
  const tables = new Map<string, number>();
  const count = bytes.readUInt16BE(base + 4);
  for (let i = 0; i < count; i++) {
    const rec = base + 12 + i * 16;
    tables.set(bytes.toString('latin1', rec, rec + 4), bytes.readUInt32BE(rec + 8));
  }
  const name = tables.get('name');
  const cmap = tables.get('cmap');
  if (name === undefined || cmap === undefined) throw new Error('font has no name or cmap table');
  return { family: familyName(bytes, name), coverage: cmapCoverage(bytes, cmap) };
}

function familyName(b: Buffer, at: number): string {
  const count = b.readUInt16BE(at + 2);
  const strings = at + b.readUInt16BE(at + 4);
  let best: { score: number; value: string } | undefined;
  for (let i = 0; i < count; i++) {
    const r = at + 6 + i * 12;
    const [platform, encoding, language, nameId, length, offset] = [0, 2, 4, 6, 8, 10].map((o) =>
      b.readUInt16BE(r + o),
    ) as [number, number, number, number, number, number];
    if (nameId !== 1 && nameId !== 16) continue;
    const raw = b.subarray(strings + offset, strings + offset + length);
    let value: string;
    if (platform === 3 || platform === 0) value = Buffer.from(raw).swap16().toString('utf16le');
    else if (platform === 1 && encoding === 0) value = raw.toString('latin1');
    else continue;
    // Prefer the typographic family (16), Windows English names, then anything.
    const score = (nameId === 16 ? 4 : 0) + (platform === 3 && language === 0x409 ? 2 : 0);
    if (!best || score > best.score) best = { score, value };
  }
  if (!best) throw new Error('font has no family name');
  return best.value;
}

function cmapCoverage(b: Buffer, at: number): Set<number> {
  const out = new Set<number>();
  const n = b.readUInt16BE(at + 2);
  let format4: number | undefined;
  let format12: number | undefined;
  for (let i = 0; i < n; i++) {
    const r = at + 4 + i * 8;
    const platform = b.readUInt16BE(r);
    const encoding = b.readUInt16BE(r + 2);
    const sub = at + b.readUInt32BE(r + 4);
    const format = b.readUInt16BE(sub);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    if (format === 12) format12 = sub;
    else if (format === 4) format4 = sub;
  }
  if (format12 !== undefined) {
    const groups = b.readUInt32BE(format12 + 12);
    for (let g = 0; g < groups; g++) {
      const r = format12 + 16 + g * 12;
      const start = b.readUInt32BE(r);
      const end = b.readUInt32BE(r + 4);
      const glyph = b.readUInt32BE(r + 8);
      for (let c = start; c <= end; c++) if (glyph + (c - start) !== 0) out.add(c);
    }
  } else if (format4 !== undefined) {
    const segs = b.readUInt16BE(format4 + 6) / 2;
    const ends = format4 + 14;
    const starts = ends + segs * 2 + 2;
    const deltas = starts + segs * 2;
    const ranges = deltas + segs * 2;
    for (let s = 0; s < segs; s++) {
      const end = b.readUInt16BE(ends + s * 2);
      const start = b.readUInt16BE(starts + s * 2);
      const delta = b.readInt16BE(deltas + s * 2);
      const rangeOffset = b.readUInt16BE(ranges + s * 2);
      for (let c = start; c <= end && c !== 0xffff; c++) {
        let glyph: number;
        if (rangeOffset === 0) glyph = (c + delta) & 0xffff;
        else {
          const g = b.readUInt16BE(ranges + s * 2 + rangeOffset + (c - start) * 2);
          glyph = g === 0 ? 0 : (g + delta) & 0xffff;
        }
        if (glyph !== 0) out.add(c);
      }
    }
  }
  return out;
}
