import type { TopLevelSpec } from 'vega-lite';
import { fenToYuan } from '../../domain/campaign/money.ts';
import type { CampaignFigures } from '../../usecases/report/figures.ts';
import type { Locale } from '../i18n.ts';
import { type ChartFont, chartFont, missingChars } from './chart-font.ts';

// The report chart: recipients and amounts per category, two horizontal bar panels side by side.
// vega-lite compiles the spec, vega renders SVG headless (no canvas, no browser), resvg turns it into
// PNG with the fonts given explicitly and system fonts off (chart-font.ts: CHART_FONT, else the font the
// repository ships, else fontconfig's Chinese font), so Chinese labels never depend on the machine's font
// configuration by accident. The PNG is always exactly `width` × `height`: the SVG is scaled to fit and
// centred on a white background. The three libraries are loaded at the first chart, not with the
// process: together they hold ~30 MB that the bot and the worker otherwise carry from the start.

export const CHART_WIDTH = 1600;
export const CHART_HEIGHT = 900;

export interface ChartOptions {
  locale: Locale;
  width?: number;
  height?: number;
  /** Default: the process's resolved chart font (no CHART_FONT). */
  font?: ChartFont;
}

/** The CSS font-family list of the fonts (primary first); `sans-serif` when there is none. */
function fontFamilies(font: ChartFont): string {
  return [...font.fonts.map((f) => `'${f.family.replace(/'/g, '')}'`), 'sans-serif'].join(', ');
}

export function chartSpec(
  f: CampaignFigures,
  locale: Locale,
  font: ChartFont = chartFont(undefined),
): TopLevelSpec {
  const en = locale === 'en';
  const values = f.categories.map((c) => ({
    category: en ? c.nameEn : c.nameZh,
    recipients: c.recipients,
    amount: fenToYuan(c.amountFen),
  }));
  const longest = Math.max(0, ...values.map((v) => [...v.category].length));
  const y = {
    field: 'category',
    type: 'nominal' as const,
    sort: values.map((v) => v.category),
    axis: { labelLimit: 0, labelFontSize: 14, title: null },
  };
  const panel = (field: 'recipients' | 'amount', title: string, color: string, showLabels: boolean) => ({
    width: 540,
    height: Math.max(420, values.length * 64),
    title: { text: title, fontSize: 16 },
    encoding: {
      y: { ...y, axis: showLabels ? y.axis : { labels: false, ticks: false, title: null } },
      x: { field, type: 'quantitative' as const, axis: { title: null, labelFontSize: 12 } },
    },
    layer: [
      { mark: { type: 'bar' as const, color } },
      {
        mark: { type: 'text' as const, align: 'left' as const, dx: 4, fontSize: 13 },
        encoding: {
          text: { field, type: 'quantitative' as const, format: field === 'amount' ? ',.2f' : 'd' },
        },
      },
    ],
  });
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: en
        ? `${f.campaign.titleEn}: recipients and amounts by category`
        : `${f.campaign.titleZh}：各类别慰问人数及金额`,
      subtitle: en ? `As of ${f.asOfDate}` : `截至 ${f.asOfDate}`,
      fontSize: 20,
      subtitleFontSize: 13,
    },
    background: 'white',
    // Without a canvas vega estimates text widths for Latin letters; full-width CJK labels are about twice
    // as wide as estimated, so the left padding makes room for the longest one.
    padding: { left: 20 + Math.ceil(longest * 14 * 0.55), top: 20, right: 40, bottom: 20 },
    data: { values },
    hconcat: [
      panel('recipients', en ? 'Recipients' : '慰问人数（人）', '#c0392b', true),
      panel('amount', en ? 'Amount (yuan)' : '慰问金额（元）', '#e67e22', false),
    ],
    config: { font: fontFamilies(font), view: { stroke: null } },
  } as TopLevelSpec;
}

/** Renders the chart's SVG (vega, headless). */
export async function renderChartSvg(
  f: CampaignFigures,
  locale: Locale,
  font: ChartFont = chartFont(undefined),
): Promise<string> {
  const [{ compile }, vega] = await Promise.all([import('vega-lite'), import('vega')]);
  const { spec } = compile(chartSpec(f, locale, font));
  const view = new vega.View(vega.parse(spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Fits an SVG into exactly width × height (aspect kept, centred; the viewBox does the scaling). */
function fitSvg(svg: string, width: number, height: number): string {
  const m = /<svg\b[^>]*>/.exec(svg);
  if (!m) throw new Error('not an SVG document');
  const open = m[0];
  const w = Number(/\bwidth="([\d.]+)"/.exec(open)?.[1]);
  const h = Number(/\bheight="([\d.]+)"/.exec(open)?.[1]);
  const viewBox = /\bviewBox="([^"]+)"/.exec(open)?.[1] ?? `0 0 ${w} ${h}`;
  const inner = svg.slice(m.index + open.length).replace(/<\/svg>\s*$/, '');
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}">` +
    `<rect width="100%" height="100%" fill="white"/>` +
    `<svg x="0" y="0" width="${width}" height="${height}" viewBox="${viewBox}" preserveAspectRatio="xMidYMid meet">` +
    `${inner}</svg></svg>`
  );
}

/** The words of an SVG document (its <text> contents, entities decoded). */
export function svgText(svg: string): string {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return [...svg.matchAll(/<text\b[^>]*>([^<]*)<\/text>/g)]
    .map((m) =>
      m[1]!.replace(/&(#x[0-9a-f]+|#\d+|\w+);/gi, (e, n: string) =>
        n[0] === '#'
          ? String.fromCodePoint(
              n[1] === 'x' || n[1] === 'X' ? Number.parseInt(n.slice(2), 16) : Number(n.slice(1)),
            )
          : (entities[n] ?? e),
      ),
    )
    .join('\n');
}

export interface RenderedChart {
  png: Buffer;
  /** Characters of the chart's words that no loaded font can draw (they are missing from the picture). */
  missing: string[];
}

/** The chart as PNG bytes, exactly width × height (default 1600 × 900), and the characters it could not draw. */
export async function renderChart(f: CampaignFigures, opts: ChartOptions): Promise<RenderedChart> {
  const width = opts.width ?? CHART_WIDTH;
  const height = opts.height ?? CHART_HEIGHT;
  const font = opts.font ?? chartFont(undefined);
  const raw = await renderChartSvg(f, opts.locale, font);
  const primary = font.fonts[0]?.family;
  const { Resvg } = await import('@resvg/resvg-js');
  const png = new Resvg(fitSvg(raw, width, height), {
    font: {
      fontFiles: font.fonts.map((x) => x.file),
      loadSystemFonts: false,
      ...(primary ? { defaultFontFamily: primary, sansSerifFamily: primary } : {}),
    },
    fitTo: { mode: 'original' },
  })
    .render()
    .asPng();
  return { png: Buffer.from(png), missing: missingChars(font, svgText(raw)) };
}

/** The chart as PNG bytes, exactly width × height (default 1600 × 900). */
export async function renderChartPng(f: CampaignFigures, opts: ChartOptions): Promise<Buffer> {
  return (await renderChart(f, opts)).png;
}

/** Width and height from a PNG's IHDR chunk. */
export function pngSize(png: Uint8Array): { width: number; height: number } {
  const b = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  if (b.length < 24 || b.readUInt32BE(0) !== 0x89504e47 || b.toString('ascii', 12, 16) !== 'IHDR')
    throw new Error('not a PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}
