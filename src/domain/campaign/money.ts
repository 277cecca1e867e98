/**
 * Money in campaign files is written in yuan (元) with at most 2 decimals, as a YAML number (`800`,
 * `99.5`) or a string (`"1,000.00"`). It is stored as integer fen (1 yuan = 100 fen), as a JS number
 * (safe up to 90 trillion yuan; convert to BigInt for Prisma's BigInt columns yourself).
 */
export type YuanToFenResult =
  | { ok: true; fen: number }
  | { ok: false; code: 'campaign.amount_format' | 'campaign.amount_precision' | 'campaign.amount_negative' };

const PLAIN_RE = /^(\d+)(?:\.(\d{1,}))?$/;
const GROUPED_RE = /^(\d{1,3}(?:,\d{3})+)(?:\.(\d{1,}))?$/;

export function yuanToFen(value: number | string): YuanToFenResult {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return { ok: false, code: 'campaign.amount_format' };
    if (value < 0) return { ok: false, code: 'campaign.amount_negative' };
    const fen = Math.round(value * 100);
    if (Math.abs(value * 100 - fen) > 1e-6) return { ok: false, code: 'campaign.amount_precision' };
    if (!Number.isSafeInteger(fen)) return { ok: false, code: 'campaign.amount_format' };
    return { ok: true, fen };
  }
  const s = value
    .trim()
    .replace(/^¥|元$/gu, '')
    .trim();
  if (s.startsWith('-')) return { ok: false, code: 'campaign.amount_negative' };
  const m = PLAIN_RE.exec(s) ?? GROUPED_RE.exec(s);
  if (!m) return { ok: false, code: 'campaign.amount_format' };
  const frac = m[2] ?? '';
  if (frac.length > 2) return { ok: false, code: 'campaign.amount_precision' };
  const fen = Number(m[1]!.replace(/,/g, '')) * 100 + Number(frac.padEnd(2, '0'));
  if (!Number.isSafeInteger(fen)) return { ok: false, code: 'campaign.amount_format' };
  return { ok: true, fen };
}

/** 80000 → 800, 9950 → 99.5 (a number of yuan, for files and diffs). */
export function fenToYuan(fen: number): number {
  return fen / 100;
}

/** 80000 → '800.00' */
export function formatYuan(fen: number): string {
  const sign = fen < 0 ? '-' : '';
  const abs = Math.abs(fen);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/**
 * Splits `totalFen` in proportion to `weights` (all positive integers), to the fen: each share is
 * rounded down and the fen left over go one each to the largest remainders (ties: the earlier entry).
 * The shares always add up to `totalFen`. `equal` is all weights 1; `by_members` the member counts.
 */
export function splitFen(totalFen: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, w) => a + w, 0);
  if (weights.length === 0 || sum <= 0) return weights.map(() => 0);
  const total = BigInt(totalFen);
  const big = BigInt(sum);
  const shares = weights.map((w) => (total * BigInt(w)) / big);
  const rests = weights.map((w, i) => ({ i, rest: (total * BigInt(w)) % big }));
  let left = Number(total - shares.reduce((a, x) => a + x, 0n));
  rests.sort((a, b) => (a.rest === b.rest ? a.i - b.i : a.rest > b.rest ? -1 : 1));
  for (const r of rests) {
    if (left <= 0) break;
    shares[r.i]! += 1n;
    left--;
  }
  return shares.map(Number);
}
