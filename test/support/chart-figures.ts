import type { CampaignFigures } from '../../src/usecases/report/figures.ts';

/**
 * Just the figures the chart draws (title, date, categories): the chart renderer reads nothing else.
 * The full figures come from the database (test/integration/report-figures.test.ts renders those too).
 */
export function chartFigures(categories: { zh: string; en: string; recipients: number; fen: number }[]) {
  return {
    asOfDate: '2026-12-01',
    campaign: { code: 'T', titleZh: '2027年元旦春节送温暖活动', titleEn: '2027 Send Warmth campaign' },
    categories: categories.map((c, i) => ({
      code: `c${i}`,
      kind: 'person',
      nameZh: c.zh,
      nameEn: c.en,
      recipients: c.recipients,
      amountFen: c.fen,
    })),
  } as unknown as CampaignFigures;
}
