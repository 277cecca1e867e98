import { createHash } from 'node:crypto';
import type { Db, Prisma, Tx } from '../adapters/db/client.ts';
import { Prisma as PrismaNs, uniqueViolation } from '../adapters/db/client.ts';
import {
  type CampaignStatus,
  NominationStatus,
  type BenefitForm as DbBenefitForm,
} from '../generated/prisma/enums.ts';
import {
  type BenefitForm,
  type Campaign,
  type CampaignCategory,
  type CampaignChange,
  type CampaignProblem,
  type CampaignProblemCode,
  type CampaignSettings,
  type CampaignWarningCode,
  type CategoryKind,
  diffCampaigns,
  formatYuan,
  type NominationField,
  parseCampaignFile,
  SETTINGS_DEFAULTS,
} from '../domain/campaign/index.ts';
import { audit } from './audit.ts';
import { ensureFederation } from './unions.ts';

// Campaigns are loaded from YAML files (campaigns/*.yaml): by an admin sending the file to the bot or
// with `npm run campaign -- load <file>`. One load = one transaction with one audit row.
//
// Timing. The campaign's phase is derived from its timeline and the current time on every read:
// `campaignState(campaign, now)` → not_open_yet | open | reviewing | payment | archived. Use it (or the
// Prisma filter `nominationOpenWhere(now)`) to decide whether nominations are accepted. The `status`
// column is only a snapshot written at load time (draft before nominations open, open while they are
// open, closed afterwards) for people reading the table directly; the one value that matters is
// `archived`, which loading never sets or clears.

export type CampaignLoadProblemCode =
  | CampaignProblemCode
  | 'campaign.category_in_use'
  | 'campaign.allocation_union_unknown';
export type CampaignLoadProblem = CampaignProblem<CampaignLoadProblemCode>;
export type CampaignWarning = CampaignProblem<CampaignWarningCode>;

export type CampaignPhase = 'not_open_yet' | 'open' | 'reviewing' | 'payment' | 'archived';

/** A category as stored, with its row id (amounts in integer fen). */
export interface CampaignCategoryRecord extends CampaignCategory {
  id: number;
}

/** A campaign as stored: the parsed file model (`Campaign`, so `diffCampaigns` works on it) plus row data. */
export interface CampaignRecord extends Campaign {
  id: number;
  status: CampaignStatus;
  sourceHash: string | null;
  categories: CampaignCategoryRecord[];
  createdAt: Date;
  updatedAt: Date;
}

export type LoadOutcome = 'created' | 'updated' | 'unchanged';

export type LoadCampaignResult =
  | {
      ok: true;
      outcome: LoadOutcome;
      campaign: CampaignRecord;
      /** Empty for `created` and `unchanged`. */
      changes: CampaignChange[];
      warnings: CampaignWarning[];
    }
  | { ok: false; problems: CampaignLoadProblem[] };

export interface LoadCampaignInput {
  /** Person loading the file (null for the CLI / seed). */
  actorId: number | null;
  text: string;
  /** File name, for the audit trail. */
  sourceName: string;
  /** Defaults to the installation's federation (`ensureFederation`). */
  federationId?: number;
  now?: Date;
}

// --------------------------------------------------------------------------------------------- reading

const withCategories = {
  categories: { orderBy: [{ sortOrder: 'asc' }, { id: 'asc' }] },
  allocations: { orderBy: { id: 'asc' }, include: { union: { select: { name: true } } } },
} satisfies Prisma.CampaignInclude;
type CampaignRow = Prisma.CampaignGetPayload<{ include: typeof withCategories }>;

function settingsFromJson(json: Prisma.JsonValue): CampaignSettings {
  const s = (json ?? {}) as Partial<CampaignSettings>;
  return {
    reviewSlaHours: s.reviewSlaHours ?? SETTINGS_DEFAULTS.review_sla_hours,
    fourEyes: {
      aboveAmountFen: s.fourEyes?.aboveAmountFen ?? null,
      flagged: s.fourEyes?.flagged ?? SETTINGS_DEFAULTS.four_eyes.flagged,
    },
    reminders: { ...s.reminders, beforeClose: s.reminders?.beforeClose ?? [] },
    quietHours: s.quietHours ?? { ...SETTINGS_DEFAULTS.quiet_hours },
    draftTtlHours: s.draftTtlHours ?? SETTINGS_DEFAULTS.draft_ttl_hours,
    ...(s.auditorFullValues ? { auditorFullValues: true } : {}),
  };
}

/** Row (with categories) → plain record. BigInt money becomes number fen; the payment date an IsoDate. */
export function campaignFromRow(row: CampaignRow): CampaignRecord {
  return {
    id: row.id,
    code: row.code,
    status: row.status,
    sourceHash: row.sourceHash,
    title: { zh: row.titleZh, en: row.titleEn },
    organiser: row.organiser,
    noticeDocument: row.noticeDocument,
    budget: {
      totalFen: Number(row.budgetTotalFen),
      allocatedToUnionsFen: Number(row.budgetUnionsFen),
      ...(row.allocations.length > 0
        ? {
            allocations: row.allocations.map((a) => ({
              union: a.union.name,
              amountFen: Number(a.amountFen),
            })),
          }
        : {}),
    },
    categories: row.categories.map((c) => ({
      id: c.id,
      code: c.code,
      name: { zh: c.nameZh, en: c.nameEn },
      kind: c.kind as CategoryKind,
      standardAmountFen: c.standardAmountFen,
      benefitForms: c.benefitForms as BenefitForm[],
      requiredFields: c.requiredFields as NominationField[],
      quotaPerUnion: c.quotaPerUnion,
      yearlyCapFen: c.yearlyCapFen,
      sortOrder: c.sortOrder,
    })),
    timeline: {
      nominationOpens: row.nominationOpensAt,
      nominationCloses: row.nominationClosesAt,
      reviewDeadline: row.reviewDeadline,
      // @db.Date arrives as UTC midnight; its UTC date is the stored calendar date.
      targetPaymentDate: row.targetPaymentDate.toISOString().slice(0, 10),
      provincialEntryWorkingDays: row.entryWorkingDays,
    },
    settings: settingsFromJson(row.settings),
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

/** A campaign by id or code, or null. */
export async function getCampaign(db: Db | Tx, idOrCode: number | string): Promise<CampaignRecord | null> {
  const row = await db.campaign.findUnique({
    where: typeof idOrCode === 'number' ? { id: idOrCode } : { code: idOrCode },
    include: withCategories,
  });
  return row ? campaignFromRow(row) : null;
}

type Timeline = Pick<Campaign['timeline'], 'nominationOpens' | 'nominationCloses' | 'reviewDeadline'>;

/** The campaign's phase at `now` (see the module comment). */
export function campaignState(c: { status: CampaignStatus; timeline: Timeline }, now: Date): CampaignPhase {
  if (c.status === 'archived') return 'archived';
  const t = now.getTime();
  if (t < c.timeline.nominationOpens.getTime()) return 'not_open_yet';
  if (t < c.timeline.nominationCloses.getTime()) return 'open';
  if (t < c.timeline.reviewDeadline.getTime()) return 'reviewing';
  return 'payment';
}

/** Prisma filter: campaigns accepting nominations at `now` (same rule as `campaignState(...) === 'open'`). */
export function nominationOpenWhere(now: Date): Prisma.CampaignWhereInput {
  return {
    status: { not: 'archived' },
    nominationOpensAt: { lte: now },
    nominationClosesAt: { gt: now },
  };
}

/** Campaigns accepting nominations now, oldest first. */
export async function listOpenCampaigns(db: Db, now: Date): Promise<CampaignRecord[]> {
  const rows = await db.campaign.findMany({
    where: nominationOpenWhere(now),
    include: withCategories,
    orderBy: [{ nominationClosesAt: 'asc' }, { id: 'asc' }],
  });
  return rows.map(campaignFromRow);
}

export interface CampaignListItem extends CampaignRecord {
  state: CampaignPhase;
  /** Nominations per status, in workflow order (statuses with none are absent). */
  nominations: Partial<Record<NominationStatus, number>>;
  nominationsTotal: number;
}

/** Every campaign (newest nomination window first) with its phase and nomination counts. */
export async function listCampaigns(db: Db, now: Date): Promise<CampaignListItem[]> {
  const [rows, counts] = await Promise.all([
    db.campaign.findMany({
      include: withCategories,
      orderBy: [{ nominationOpensAt: 'desc' }, { id: 'desc' }],
    }),
    db.nomination.groupBy({ by: ['campaignId', 'status'], _count: { _all: true } }),
  ]);
  return rows.map((row) => {
    const nominations: Partial<Record<NominationStatus, number>> = {};
    let total = 0;
    for (const status of Object.values(NominationStatus)) {
      const n = counts.find((c) => c.campaignId === row.id && c.status === status)?._count._all ?? 0;
      if (n > 0) nominations[status] = n;
      total += n;
    }
    const record = campaignFromRow(row);
    return { ...record, state: campaignState(record, now), nominations, nominationsTotal: total };
  });
}

// --------------------------------------------------------------------------------------------- loading

export function sourceHashOf(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

function statusSnapshot(c: Campaign, previous: CampaignStatus | undefined, now: Date): CampaignStatus {
  if (previous === 'archived') return 'archived';
  const phase = campaignState({ status: 'draft', timeline: c.timeline }, now);
  return phase === 'not_open_yet' ? 'draft' : phase === 'open' ? 'open' : 'closed';
}

function campaignData(c: Campaign, hash: string, status: CampaignStatus) {
  return {
    titleZh: c.title.zh,
    titleEn: c.title.en,
    organiser: c.organiser,
    noticeDocument: c.noticeDocument ?? null,
    status,
    budgetTotalFen: BigInt(c.budget.totalFen),
    budgetUnionsFen: BigInt(c.budget.allocatedToUnionsFen),
    nominationOpensAt: c.timeline.nominationOpens,
    nominationClosesAt: c.timeline.nominationCloses,
    reviewDeadline: c.timeline.reviewDeadline,
    targetPaymentDate: new Date(`${c.timeline.targetPaymentDate}T00:00:00Z`),
    entryWorkingDays: c.timeline.provincialEntryWorkingDays,
    settings: c.settings as unknown as Prisma.InputJsonValue,
    sourceHash: hash,
  };
}

function categoryData(k: CampaignCategory) {
  return {
    nameZh: k.name.zh,
    nameEn: k.name.en,
    kind: k.kind,
    standardAmountFen: k.standardAmountFen,
    benefitForms: k.benefitForms as DbBenefitForm[],
    requiredFields: [...k.requiredFields],
    quotaPerUnion: k.quotaPerUnion,
    yearlyCapFen: k.yearlyCapFen,
    sortOrder: k.sortOrder,
  };
}

/** Short description for the audit trail (no personal data in campaigns). */
function summary(c: Campaign, sourceName: string, hash: string) {
  return {
    code: c.code,
    title: c.title.zh,
    source: sourceName,
    sourceHash: hash,
    budgetTotal: formatYuan(c.budget.totalFen),
    budgetUnions: formatYuan(c.budget.allocatedToUnionsFen),
    nominationOpens: c.timeline.nominationOpens.toISOString(),
    nominationCloses: c.timeline.nominationCloses.toISOString(),
    categories: c.categories.map((k) => ({ code: k.code, standardAmount: formatYuan(k.standardAmountFen) })),
  };
}

/** JSON with sorted keys (jsonb does not keep key order). */
function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  );
}

/**
 * The campaign file's allocations to grassroots unions (by exact union name) become UnionAllocation
 * rows; an allocation dropped from the file goes only if its union reported nothing yet.
 */
async function syncAllocations(
  tx: Tx,
  campaignId: number,
  allocations: { union: string; amountFen: number }[],
): Promise<void> {
  const unions = await tx.union.findMany({
    where: { name: { in: allocations.map((a) => a.union) } },
    select: { id: true, name: true },
  });
  const byName = new Map(unions.map((u) => [u.name, u.id]));
  const unknown = allocations.filter((a) => !byName.has(a.union));
  if (unknown.length > 0)
    throw new Refused(
      unknown.map((a) => ({
        path: 'budget.allocations',
        code: 'campaign.allocation_union_unknown' as const,
        message: `no grassroots union named "${a.union}" (add it with /union_add first)`,
        params: { union: a.union },
      })),
    );
  const keep = allocations.map((a) => byName.get(a.union)!);
  await tx.unionAllocation.deleteMany({
    where: { campaignId, unionId: { notIn: keep }, reportedAt: null, recipients: { none: {} } },
  });
  for (const a of allocations) {
    const unionId = byName.get(a.union)!;
    await tx.unionAllocation.upsert({
      where: { campaignId_unionId: { campaignId, unionId } },
      create: { campaignId, unionId, amountFen: BigInt(a.amountFen) },
      update: { amountFen: BigInt(a.amountFen) },
    });
  }
}

/** Thrown inside the transaction to roll it back and report problems. */
class Refused extends Error {
  constructor(readonly problems: CampaignLoadProblem[]) {
    super('campaign load refused');
  }
}

/**
 * Parses, validates and stores a campaign file (created, updated or unchanged). Invalid files and
 * removals of categories that already have nominations are refused with every problem; nothing is
 * written then.
 */
export async function loadCampaign(db: Db, input: LoadCampaignInput): Promise<LoadCampaignResult> {
  const parsed = parseCampaignFile(input.text);
  if (!parsed.ok) return { ok: false, problems: parsed.problems };
  const c = parsed.campaign;
  const warnings = parsed.warnings;
  const hash = sourceHashOf(input.text);
  const now = input.now ?? new Date();
  const federationId = input.federationId ?? (await ensureFederation(db)).id;

  const attempt = () =>
    db.$transaction(async (tx) => {
      const existing = await tx.campaign.findUnique({ where: { code: c.code }, include: withCategories });

      if (!existing) {
        const row = await tx.campaign.create({
          data: {
            code: c.code,
            federationId,
            ...campaignData(c, hash, statusSnapshot(c, undefined, now)),
            categories: { create: c.categories.map((k) => ({ code: k.code, ...categoryData(k) })) },
          },
          include: withCategories,
        });
        await syncAllocations(tx, row.id, c.budget.allocations ?? []);
        await audit(tx, {
          actorId: input.actorId,
          action: 'campaign.load',
          entity: 'campaign',
          entityId: row.id,
          after: summary(c, input.sourceName, hash),
        });
        const loaded = await tx.campaign.findUniqueOrThrow({
          where: { id: row.id },
          include: withCategories,
        });
        return { outcome: 'created' as const, row: loaded, changes: [] };
      }

      const before = campaignFromRow(existing);
      if (existing.sourceHash === hash) return { outcome: 'unchanged' as const, row: existing, changes: [] };
      const changes = diffCampaigns(before, c);
      // Settings the file view does not show (newer options) still count as a change.
      const [oldSettings, newSettings] = [canonicalJson(before.settings), canonicalJson(c.settings)];
      if (oldSettings !== newSettings && !changes.some((ch) => ch.path.startsWith('settings'))) {
        changes.push({ path: 'settings', kind: 'changed', before: oldSettings, after: newSettings });
      }
      const status = statusSnapshot(c, existing.status, now);
      if (changes.length === 0) {
        // Same content (e.g. only comments changed): remember the new text, no audit-worthy change.
        const row = await tx.campaign.update({
          where: { id: existing.id },
          data: { sourceHash: hash, status },
          include: withCategories,
        });
        return { outcome: 'unchanged' as const, row, changes };
      }

      const wanted = new Set(c.categories.map((k) => k.code));
      const removed = existing.categories.filter((k) => !wanted.has(k.code));
      if (removed.length > 0) {
        const used = await tx.nomination.groupBy({
          by: ['categoryId'],
          where: { categoryId: { in: removed.map((k) => k.id) } },
          _count: { _all: true },
        });
        if (used.length > 0) {
          throw new Refused(
            used.map((u) => {
              const k = removed.find((r) => r.id === u.categoryId)!;
              return {
                path: `categories[${k.code}]`,
                code: 'campaign.category_in_use',
                message: `category "${k.code}" cannot be removed: it has ${u._count._all} nomination(s); keep it in the file`,
                params: { code: k.code, name: k.nameZh, count: u._count._all },
              };
            }),
          );
        }
        await tx.campaignCategory.deleteMany({ where: { id: { in: removed.map((k) => k.id) } } });
      }
      for (const k of c.categories) {
        await tx.campaignCategory.upsert({
          where: { campaignId_code: { campaignId: existing.id, code: k.code } },
          create: { campaignId: existing.id, code: k.code, ...categoryData(k) },
          update: categoryData(k),
        });
      }
      await syncAllocations(tx, existing.id, c.budget.allocations ?? []);
      const row = await tx.campaign.update({
        where: { id: existing.id },
        data: campaignData(c, hash, status),
        include: withCategories,
      });
      await audit(tx, {
        actorId: input.actorId,
        action: 'campaign.update',
        entity: 'campaign',
        entityId: row.id,
        before: { sourceHash: existing.sourceHash },
        after: {
          ...summary(c, input.sourceName, hash),
          changes: changes as unknown as Prisma.InputJsonValue,
        },
      });
      return { outcome: 'updated' as const, row, changes };
    });

  try {
    let r: Awaited<ReturnType<typeof attempt>>;
    try {
      r = await attempt();
    } catch (err) {
      // Two first loads of the same code at once (unique violation), or a nomination created in a
      // category while it was being removed (foreign key): retry once, which sees the other's commit.
      const fkViolation = err instanceof PrismaNs.PrismaClientKnownRequestError && err.code === 'P2003';
      if (!uniqueViolation(err) && !fkViolation) throw err;
      r = await attempt();
    }
    return { ok: true, outcome: r.outcome, campaign: campaignFromRow(r.row), changes: r.changes, warnings };
  } catch (err) {
    if (err instanceof Refused) return { ok: false, problems: err.problems };
    throw err;
  }
}
