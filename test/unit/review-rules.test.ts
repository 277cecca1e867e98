import { describe, expect, it } from 'vitest';
import { diffSnapshots } from '../../src/domain/review/diff.ts';
import {
  bulkEligible,
  digestWindow,
  digestWindowEnd,
  planDecision,
  REVIEW_DEFAULTS,
  reviewSettingsFrom,
  secondApprovalReasons,
  slaDueAt,
} from '../../src/domain/review/rules.ts';

const fe = { aboveAmountFen: 100_000, flagged: true };
const base = { reviewerId: 1, fourEyes: fe, amountFen: 80_000, flags: [] as string[] };

describe('planDecision', () => {
  it('approve from submitted: approved, or pending second approval under four eyes', () => {
    expect(planDecision({ ...base, status: 'submitted', action: 'approve' })).toEqual({
      ok: true,
      kind: 'approve',
      nextStatus: 'approved',
    });
    expect(
      planDecision({ ...base, status: 'submitted', action: 'approve', amountFen: 100_001 }),
    ).toMatchObject({
      nextStatus: 'pending_second_approval',
    });
    expect(
      planDecision({ ...base, status: 'submitted', action: 'approve', flags: ['shared_phone'] }),
    ).toMatchObject({
      nextStatus: 'pending_second_approval',
    });
  });
  it('second approval needs a different approver', () => {
    const s = { ...base, status: 'pending_second_approval', action: 'approve' as const };
    expect(planDecision({ ...s, firstApproverId: 1 })).toEqual({ ok: false, code: 'review_same_approver' });
    expect(planDecision({ ...s, firstApproverId: 2 })).toMatchObject({
      kind: 'second_approve',
      nextStatus: 'approved',
    });
  });
  it('reject needs a reason, return needs a comment', () => {
    expect(planDecision({ ...base, status: 'submitted', action: 'reject' })).toMatchObject({
      code: 'review_reason_required',
    });
    expect(
      planDecision({ ...base, status: 'submitted', action: 'reject', reason: 'duplicate' }),
    ).toMatchObject({
      nextStatus: 'rejected',
    });
    expect(planDecision({ ...base, status: 'submitted', action: 'return', comment: '  ' })).toMatchObject({
      code: 'review_comment_required',
    });
    expect(
      planDecision({ ...base, status: 'pending_second_approval', action: 'return', comment: '改' }),
    ).toMatchObject({
      kind: 'return',
      nextStatus: 'returned',
    });
  });
  it('nothing from statuses outside the backlog', () => {
    for (const status of ['draft', 'returned', 'approved', 'rejected', 'withdrawn', 'paid'])
      expect(planDecision({ ...base, status, action: 'approve' })).toEqual({
        ok: false,
        code: 'review_not_pending',
      });
  });
});

describe('four eyes, bulk, settings', () => {
  it('secondApprovalReasons and bulkEligible', () => {
    expect(secondApprovalReasons(fe, { amountFen: 100_000, flags: [] })).toEqual([]);
    expect(secondApprovalReasons(fe, { amountFen: 200_000, flags: ['x'] })).toEqual(['amount', 'flagged']);
    expect(
      secondApprovalReasons({ aboveAmountFen: null, flagged: false }, { amountFen: 9e9, flags: ['x'] }),
    ).toEqual([]);
    expect(bulkEligible(fe, { status: 'submitted', amountFen: 15_000, flags: [] })).toBe(true);
    expect(bulkEligible(fe, { status: 'submitted', amountFen: 15_000, flags: ['self_nomination'] })).toBe(
      false,
    );
    expect(bulkEligible(fe, { status: 'submitted', amountFen: 150_000, flags: [] })).toBe(false);
    expect(bulkEligible(fe, { status: 'pending_second_approval', amountFen: 1, flags: [] })).toBe(false);
  });
  it('reviewSettingsFrom reads stored camelCase, snake_case, and falls back to defaults', () => {
    expect(reviewSettingsFrom({})).toEqual(REVIEW_DEFAULTS);
    expect(reviewSettingsFrom(null)).toEqual(REVIEW_DEFAULTS);
    expect(
      reviewSettingsFrom({
        reviewSlaHours: 24,
        reviewDigestMinutes: 15,
        fourEyes: { aboveAmountFen: 5000, flagged: false },
      }),
    ).toEqual({ slaHours: 24, digestMinutes: 15, fourEyes: { aboveAmountFen: 5000, flagged: false } });
    expect(reviewSettingsFrom({ review_sla_hours: 'x', review_digest_minutes: -3 })).toMatchObject({
      slaHours: 48,
      digestMinutes: 30,
    });
  });
  it('digest windows and SLA periods', () => {
    const t = new Date('2026-01-20T10:07:00Z');
    const w = digestWindow(t, 15);
    expect(digestWindowEnd(w, 15).toISOString()).toBe('2026-01-20T10:15:00.000Z');
    expect(digestWindow(new Date('2026-01-20T10:14:59Z'), 15)).toBe(w);
    expect(digestWindow(new Date('2026-01-20T10:15:00Z'), 15)).toBe(w + 1);
    expect(slaDueAt(t, 48, 2).toISOString()).toBe('2026-01-24T10:07:00.000Z');
  });
});

describe('diffSnapshots', () => {
  const reveal = (_k: string, v: unknown) => {
    const clear = String(v).replace(/^enc:/, '').replace(/#\d+$/, '');
    return { value: clear, display: `${clear.slice(0, 3)}****` };
  };
  it('lists changed fields; encrypted values compared decrypted and shown masked', () => {
    const a = {
      fullName: '王五',
      phoneEnc: 'enc:13812345678#1',
      idNumberEnc: 'enc:110#1',
      secondaryCauses: ['a'],
      amountFen: 100,
    };
    const b = {
      fullName: '王五',
      phoneEnc: 'enc:13987654321#2',
      idNumberEnc: 'enc:110#2',
      secondaryCauses: ['a', 'b'],
      amountFen: 100,
    };
    expect(diffSnapshots(a, b, reveal)).toEqual([
      { field: 'phone', before: '138****', after: '139****' },
      { field: 'secondary_causes', before: 'a', after: 'a、b' },
    ]);
  });
  it('no changes: empty; a field added shows a dash before', () => {
    expect(diffSnapshots({ fullName: 'x' }, { fullName: 'x' }, reveal)).toEqual([]);
    expect(diffSnapshots({}, { employer: '县医院' }, reveal)).toEqual([
      { field: 'employer', before: '—', after: '县医院' },
    ]);
  });
});
