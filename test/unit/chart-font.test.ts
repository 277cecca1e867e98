import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { renderChart } from '../../src/adapters/files/chart.ts';
import {
  BUNDLED_CHART_FONT,
  missingChars,
  readFontInfo,
  resolveChartFont,
} from '../../src/adapters/files/chart-font.ts';
import { chartFigures } from '../support/chart-figures.ts';
import { decodePng, inkPixels } from '../support/png.ts';

// The chart's words come from the font the repository ships, with system fonts off and no Chinese font
// installed on the machine (fontconfig is not asked: systemFont returns nothing). The same chart rendered
// with no font at all is the comparison: its title and category labels are blank.

const noSystem = () => undefined;
const figures = chartFigures([
  { zh: '困难职工', en: 'Needy workers', recipients: 58, fen: 4_640_000 },
  { zh: '新就业形态劳动者', en: 'Gig workers', recipients: 86, fen: 1_720_000 },
]);
// Regions of the 1600 × 900 picture: the title, subtitle and panel titles; the category labels.
const titleBand = [0, 140, 700, 225] as const;
const labelColumn = [0, 250, 180, 720] as const; // the bars start at x ≈ 200

describe('chart font', () => {
  it('resolves CHART_FONT first, then the shipped font, then the system Chinese font', () => {
    const configured = resolveChartFont({ configured: BUNDLED_CHART_FONT, systemFont: noSystem });
    expect(configured.fonts.map((f) => f.source)).toEqual(['config']);
    const missing = resolveChartFont({ configured: '/nowhere/font.ttf', systemFont: noSystem });
    expect(missing.problems).toEqual(['CHART_FONT=/nowhere/font.ttf does not exist']);
    expect(missing.fonts.map((f) => [f.source, f.family])).toEqual([['bundled', 'Warmth Chart Sans']]);
    const none = resolveChartFont({ bundled: '/nowhere/bundled.otf', systemFont: noSystem });
    expect(none.fonts).toEqual([]);
    const system = resolveChartFont({
      bundled: '/nowhere/bundled.otf',
      systemFont: () => BUNDLED_CHART_FONT,
    });
    expect(system.fonts.map((f) => f.source)).toEqual(['system']);
  });

  it('the shipped font covers every character of the locales and campaign files', () => {
    const font = resolveChartFont({ systemFont: noSystem });
    const text = ['locales/zh-CN.json', 'locales/en.json', 'campaigns/example-2024-spring.yaml']
      .map((p) => readFileSync(p, 'utf8'))
      .join('')
      .replace(/\p{Extended_Pictographic}|\u{FE0F}|\u{200D}/gu, ''); // emoji: never in a chart
    expect(missingChars(font, text)).toEqual([]);
    const info = readFontInfo(readFileSync(BUNDLED_CHART_FONT));
    expect(info.coverage.size).toBeGreaterThan(4500);
    expect(missingChars(font, '龘')).toEqual(['龘']); // outside GB2312 level 1: needs a system font
  });

  it('draws the title and the Chinese category labels with no system fonts', async () => {
    const withFont = await renderChart(figures, {
      locale: 'zh-CN',
      font: resolveChartFont({ systemFont: noSystem }),
    });
    const noFont = await renderChart(figures, {
      locale: 'zh-CN',
      font: resolveChartFont({ bundled: '/nowhere/bundled.otf', systemFont: noSystem }),
    });
    expect(withFont.missing).toEqual([]);
    expect(noFont.missing).toEqual(expect.arrayContaining(['困', '难', '职', '工', '0']));
    const a = decodePng(withFont.png);
    const b = decodePng(noFont.png);
    expect(inkPixels(b, ...titleBand)).toBe(0);
    expect(inkPixels(b, ...labelColumn)).toBe(0);
    expect(inkPixels(a, ...titleBand)).toBeGreaterThan(1000);
    expect(inkPixels(a, ...labelColumn)).toBeGreaterThan(300);
  });

  it('a character outside the shipped font is drawn by the system font instead of vanishing', async () => {
    const system = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'; // fonts-dejavu-core; no CJK needed
    expect(existsSync(system), 'this test needs Debian fonts-dejavu-core').toBe(true);
    const rare = chartFigures([{ zh: 'ŦŦŦŦ', en: 'ŦŦŦŦ', recipients: 1, fen: 100 }]);
    const alone = await renderChart(rare, {
      locale: 'zh-CN',
      font: resolveChartFont({ systemFont: noSystem }),
    });
    expect(alone.missing).toEqual(['Ŧ']);
    const withFallback = await renderChart(rare, {
      locale: 'zh-CN',
      font: resolveChartFont({ systemFont: () => system }),
    });
    expect(withFallback.missing).toEqual([]);
    expect(inkPixels(decodePng(withFallback.png), ...labelColumn)).toBeGreaterThan(
      inkPixels(decodePng(alone.png), ...labelColumn) + 50,
    );
  });
});
