import { describe, expect, it } from 'vitest';
import { diffCampaigns, parseCampaignFile } from '../../src/domain/campaign/index.ts';
import { isNoticeDocument } from '../../src/usecases/announcements.ts';

// The campaign file's `notice_document`: the file name of a .pdf or .docx, nothing else.

const file = (extra: string) => `
code: notice-doc-test
title: { zh: 测试活动, en: Test campaign }
organiser: 测试县总工会
${extra}
budget: { total: 1000 }
categories:
  - code: needy_worker
    name: { zh: 困难职工, en: Needy workers }
    kind: needy_worker
    standard_amount: 800
    benefit_forms: [in_kind]
timeline:
  nomination_opens: 2026-03-02 09:00
  nomination_closes: 2026-03-13 17:00
  review_deadline: 2026-03-20 17:00
  target_payment_date: 2026-03-31
`;

describe('notice_document in a campaign file', () => {
  it('is optional and kept as written', () => {
    const none = parseCampaignFile(file(''));
    expect(none.ok && none.campaign.noticeDocument).toBe(null);
    const pdf = parseCampaignFile(file('notice_document: 关于开展2026年送温暖活动的通知.pdf'));
    expect(pdf.ok && pdf.campaign.noticeDocument).toBe('关于开展2026年送温暖活动的通知.pdf');
    const docx = parseCampaignFile(file('notice_document: notice.DOCX'));
    expect(docx.ok && docx.campaign.noticeDocument).toBe('notice.DOCX');
  });

  it.each(['notice.xlsx', 'notice', 'docs/notice.pdf', '..\\\\notice.pdf', `${'长'.repeat(200)}.pdf`])(
    'refuses %s with its own problem code',
    (name) => {
      const r = parseCampaignFile(file(`notice_document: "${name}"`));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.problems.map((p) => p.code)).toContain('campaign.notice_document_format');
    },
  );

  it('a changed notice document shows in the diff', () => {
    const a = parseCampaignFile(file('notice_document: a.pdf'));
    const b = parseCampaignFile(file('notice_document: b.pdf'));
    if (!a.ok || !b.ok) throw new Error('parse failed');
    expect(diffCampaigns(a.campaign, b.campaign)).toEqual([
      { path: 'notice_document', kind: 'changed', before: 'a.pdf', after: 'b.pdf' },
    ]);
  });
});

describe('isNoticeDocument (what an admin may attach)', () => {
  it('takes .pdf and .docx by name and MIME type', () => {
    expect(isNoticeDocument({ file_name: 'a.pdf', mime_type: 'application/pdf' })).toBe(true);
    expect(
      isNoticeDocument({
        file_name: 'a.docx',
        mime_type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
      }),
    ).toBe(true);
    expect(isNoticeDocument({ file_name: 'a.pdf' })).toBe(true);
    expect(isNoticeDocument({ file_name: 'a.pdf', mime_type: 'application/x-msdownload' })).toBe(false);
    expect(isNoticeDocument({ file_name: 'a.doc', mime_type: 'application/msword' })).toBe(false);
    expect(isNoticeDocument({ mime_type: 'application/pdf' })).toBe(false);
  });
});
