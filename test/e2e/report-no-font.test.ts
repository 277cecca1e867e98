import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.ts';
import { NOW, seedCountyCampaign } from '../support/report-fixtures.ts';

// A server where no font can draw Chinese (the shipped font removed, no system font, no CHART_FONT):
// /report still sends every figure as text, says why there is no chart and how to fix it, and the
// .docx draft comes without the picture. (With the font, test/e2e/report.test.ts gets the chart.)

const ADMIN = 9711;
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ admins: [ADMIN], now: () => NOW, chartFont: { fonts: [], problems: [] } });
  await seedCountyCampaign(h.app.db, 'fumin-nofont', h.app.cipher);
});
afterAll(async () => {
  await h?.stop();
});

describe('/report without a Chinese font', () => {
  it('sends the figures as text and no picture without words', async () => {
    const u = h.emu.user(ADMIN, { firstName: '测试', languageCode: 'zh-hans' });
    await u.send('/report fumin-nofont');
    const summary = await u.expectReply(/截至 2026年4月2日/);
    expect(summary.text).toContain('· 困难职工：58 人，46400.00 元');
    await u.expectReply(/图表未生成：本机未找到可显示中文的字体[\s\S]*npm run doctor/);
    const doc = await u.expectDocument(/\.docx/);
    expect(doc.document?.file_name).toBe('绩效评价报告草稿-fumin-nofont-2026-04-02.docx');
    expect((await u.handle.messages()).filter((m) => m.photo)).toEqual([]);
  });
});
