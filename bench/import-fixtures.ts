// What the import benchmarks share: a generated nomination list (.xlsx, valid rows of the needy-worker
// category) and the campaign, category, union and contact it is uploaded for.
import { PassThrough } from 'node:stream';
import ExcelJS from 'exceljs';
import type { Db } from '../src/adapters/db/client.ts';
import { columnTitle } from '../src/adapters/files/nomination-sheet.ts';
import { luhnValid } from '../src/domain/identity/bank-card.ts';
import { ID_WEIGHTS } from '../src/domain/identity/id-number.ts';
import { toCategoryInfo } from '../src/usecases/nominations/shared.ts';

const REQUIRED = ['name', 'id_number', 'phone', 'employer', 'work_status', 'hardship', 'description'];

/** The category the generated rows are for (as seeded by seedImportCampaign). */
export const sheetCategory = () =>
  toCategoryInfo({
    id: 0,
    code: 'needy_worker',
    kind: 'needy_worker',
    nameZh: '',
    nameEn: '',
    standardAmountFen: 80000,
    benefitForms: ['transfer'],
    requiredFields: REQUIRED,
    quotaPerUnion: null,
    yearlyCapFen: null,
  });

/** A valid ID number, different for every i (birth dates one day apart from 1960). */
export function idNumber(i: number): string {
  const birth = new Date(Date.UTC(1960, 0, 1) + i * 86_400_000);
  const ymd = birth.toISOString().slice(0, 10).replaceAll('-', '');
  const first17 = `110105${ymd}${String(100 + (i % 900)).padStart(3, '0')}`;
  const s = [...first17].reduce((a, d, k) => a + Number(d) * ID_WEIGHTS[k]!, 0);
  return first17 + '10X98765432'[s % 11]!;
}

/** A bank card number passing the Luhn check, different for every i. */
export function card(i: number): string {
  const body = `621700${String(i).padStart(12, '0')}`;
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  return `${body}0`;
}

const SURNAMES = '王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗';
const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英';

/** A one-sheet .xlsx ('申报名单') as a list is usually filled: streamed, no shared strings, no styles. */
export async function streamedSheet(
  header: string[],
  rows: number,
  row: (i: number) => string[],
): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((r) => out.on('end', r));
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({
    stream: out,
    useSharedStrings: false,
    useStyles: false,
  });
  const ws = wb.addWorksheet('申报名单');
  ws.addRow(header).commit();
  for (let i = 0; i < rows; i++) ws.addRow(row(i)).commit();
  ws.commit();
  await wb.commit();
  await done;
  return Buffer.concat(chunks);
}

/** A filled list: the header row in Chinese, then `rows` valid rows of `columns`. */
export function generateXlsx(columns: string[], rows: number): Promise<Buffer> {
  return streamedSheet(
    columns.map((c) => columnTitle(c as never, 'zh-CN')),
    rows,
    (i) => {
      const values: Record<string, string> = {
        name:
          SURNAMES[i % SURNAMES.length]! + GIVEN[(i * 7) % GIVEN.length]! + GIVEN[(i * 13) % GIVEN.length]!,
        id_number: idNumber(i),
        phone: `139${String(i).padStart(8, '0')}`,
        employer: `县第${(i % 40) + 1}中学`,
        work_status: ['在岗', '退休', '下(待)岗'][i % 3]!,
        hardship_tier: ['深度困难', '相对困难', '意外致困'][i % 3]!,
        main_cause: '患重特大疾病',
        secondary_causes: i % 2 ? '子女上学、下岗失业' : '',
        description: '本人患重病长期治疗，家庭收入低。',
        bank_name: '中国工商银行',
        bank_card: card(i),
      };
      return columns.map((c) => values[c] ?? '');
    },
  );
}

const DAY = 86_400_000;

/**
 * One open campaign with the needy-worker category, one union and its contact (Telegram id
 * `telegramId`), nominations open around `now` (opened 8 days before, closing 9 days after).
 */
export async function seedImportCampaign(db: Db, opts: { now: Date; telegramId: bigint }) {
  const t = opts.now.getTime();
  const fed = await db.federation.create({ data: { name: '基准测试总工会' } });
  const campaign = await db.campaign.create({
    data: {
      code: 'bench',
      federationId: fed.id,
      titleZh: '基准测试活动',
      titleEn: 'Benchmark campaign',
      organiser: '基准测试总工会',
      status: 'open',
      budgetTotalFen: 100_000_000_000n,
      nominationOpensAt: new Date(t - 8 * DAY),
      nominationClosesAt: new Date(t + 9 * DAY),
      reviewDeadline: new Date(t + 16 * DAY),
      targetPaymentDate: new Date(new Date(t + 26 * DAY).toISOString().slice(0, 10)),
    },
  });
  const category = await db.campaignCategory.create({
    data: {
      campaignId: campaign.id,
      code: 'needy_worker',
      nameZh: '困难职工',
      nameEn: 'Needy workers',
      kind: 'needy_worker',
      standardAmountFen: 80000,
      benefitForms: ['transfer'],
      requiredFields: REQUIRED,
      yearlyCapFen: 600000,
    },
  });
  const union = await db.union.create({ data: { federationId: fed.id, name: '基准工会' } });
  const person = await db.person.create({ data: { telegramId: opts.telegramId, displayName: '基准联系人' } });
  await db.roleGrant.create({
    data: { personId: person.id, role: 'contact', scope: `union:${union.id}`, unionId: union.id },
  });
  return { campaign, category, union, person };
}
