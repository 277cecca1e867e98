import { chainHeadLine } from '../../domain/audit/chain.ts';
import {
  AlignmentType,
  Document,
  HeadingLevel,
  ImageRun,
  Packer,
  Paragraph,
  Table,
  TableCell,
  TableRow,
  TextRun,
  WidthType,
} from 'docx';
import { formatYuan } from '../../domain/campaign/money.ts';
import { type CampaignFigures, formatRate, type ReasonCount } from '../../usecases/report/figures.ts';

// The performance-evaluation report (绩效评价报告) as a .docx draft in Chinese, following the structure of
// the county report the project started from (一 基本情况 … 七 有关建议). Every figure comes from
// `campaignFigures`; the narrative parts are left as highlighted placeholders 【待填写：…】 for staff.

export const PLACEHOLDER_MARK = '【待填写：';

/** 99900 yuan → '99900元', 12.5 → '12.50元'. */
export function yuanText(fen: number): string {
  return `${formatYuan(fen).replace(/\.00$/, '')}元`;
}

const FONT = { ascii: 'Times New Roman', eastAsia: '仿宋', hAnsi: 'Times New Roman' };
const HEAD_FONT = { ascii: 'Times New Roman', eastAsia: '黑体', hAnsi: 'Times New Roman' };

const REASON_ZH: Record<string, string> = {
  not_eligible: '不符合慰问条件',
  info_false: '信息不实',
  duplicate: '重复申报',
  already_helped: '已获帮扶',
  missing_documents: '材料不全',
  '': '未注明原因',
};
const FLAG_ZH: Record<string, string> = {
  earlier_campaign: '往期已慰问',
  self_nomination: '联系人申报本人',
  self_phone: '手机号与联系人相同',
  shared_phone: '多人共用手机号',
  shared_card: '多人共用银行卡',
  staff_phone: '手机号与工作人员相同',
  luhn_warning: '银行卡号校验存疑',
};

const text = (t: string, opts: { bold?: boolean } = {}) =>
  new TextRun({ text: t, font: FONT, size: 28, ...opts });
const placeholder = (what: string) =>
  new TextRun({ text: `${PLACEHOLDER_MARK}${what}】`, font: FONT, size: 28, highlight: 'yellow' });

function para(...runs: TextRun[]): Paragraph {
  return new Paragraph({ children: runs, indent: { firstLine: 560 }, spacing: { line: 440 } });
}
function heading(t: string, level: 1 | 2 = 1): Paragraph {
  return new Paragraph({
    children: [new TextRun({ text: t, font: HEAD_FONT, size: level === 1 ? 30 : 28, bold: level === 2 })],
    heading: level === 1 ? HeadingLevel.HEADING_1 : HeadingLevel.HEADING_2,
    spacing: { before: 240, after: 120 },
  });
}

function cell(t: string, bold = false): TableCell {
  return new TableCell({
    children: [new Paragraph({ children: [text(t, { bold })], alignment: AlignmentType.CENTER })],
  });
}

function table(header: string[], rows: string[][]): Table {
  return new Table({
    width: { size: 100, type: WidthType.PERCENTAGE },
    rows: [
      new TableRow({ children: header.map((h) => cell(h, true)), tableHeader: true }),
      ...rows.map((r) => new TableRow({ children: r.map((v) => cell(v)) })),
    ],
  });
}

/** '8个部门、58名困难职工和434名一线职工' from the categories with recipients. */
export function categoryLine(f: CampaignFigures): string {
  const parts = f.categories
    .filter((c) => c.recipients > 0)
    .map((c) => `${c.recipients}${c.kind === 'department' ? '个' : '名'}${c.nameZh}`);
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join('、')}和${parts.at(-1)}`;
}

const reasons = (list: ReasonCount[], names: Record<string, string>) =>
  list.length === 0 ? '无' : list.map((r) => `${names[r.reason] ?? r.reason}${r.count}次`).join('、');

/** Builds the .docx draft. `chartPng` (optional) is embedded after the category table. */
export async function buildReportDocx(f: CampaignFigures, opts: { chartPng?: Buffer } = {}): Promise<Buffer> {
  const b = f.budget;
  const e = f.timeliness.entry;
  const acc = f.accuracy;
  const forms = f.forms
    .map(
      (x) =>
        `${{ transfer: '实名制打款', in_kind: '实物发放', unit_condolence: '单位慰问', unknown: '其他方式' }[x.form]}${x.recipients}人次、${yuanText(x.amountFen)}`,
    )
    .join('；');

  const children: (Paragraph | Table)[] = [
    new Paragraph({
      alignment: AlignmentType.CENTER,
      spacing: { after: 240 },
      children: [
        new TextRun({
          text: `${f.campaign.organiser}${f.campaign.titleZh}`,
          font: HEAD_FONT,
          size: 36,
          bold: true,
        }),
      ],
    }),
    new Paragraph({
      alignment: AlignmentType.CENTER,
      spacing: { after: 240 },
      children: [
        new TextRun({ text: '项目支出绩效评价报告（草稿）', font: HEAD_FONT, size: 36, bold: true }),
      ],
    }),
    para(
      text(
        `说明：本草稿中的数据由送温暖工作系统于${f.asOfDate}自动生成（活动代码 ${f.campaign.code}）；黄色标注的【待填写】部分请工作人员补充完善后删除标注。`,
      ),
    ),
    para(text(chainHeadLine(f.auditHead, 'zh-CN'))),

    heading('一、基本情况'),
    heading('（一）项目概况', 2),
    para(
      placeholder('项目背景及依据的上级文件'),
      text(
        `${f.campaign.organiser}将${f.campaign.titleZh}项目资金${yuanText(b.totalFen)}列入预算。截至${f.asOfDate}，共对${categoryLine(f) || '0名慰问对象'}开展了慰问，合计${f.totals.recipients}人（单位），慰问金额${yuanText(f.totals.amountFen)}。其中直接慰问资金${yuanText(b.directSpentFen)}，拨付基层工会慰问资金${yuanText(b.allocatedToUnionsFen)}，合计支出${yuanText(b.spentFen)}，预算执行率${formatRate(b.execution)}，结余${yuanText(b.balanceFen)}。`,
      ),
    ),
    para(text(`慰问方式：${forms || '暂无发放记录'}。`)),
    ...(b.unions.lines.length > 0
      ? [
          para(
            text(
              `拨付基层工会资金使用情况：向${b.unions.lines.length}个基层工会拨付${yuanText(b.unions.allocatedFen)}，已报告使用${yuanText(b.unions.reportedFen)}（慰问${b.unions.recipients}人），退回${yuanText(b.unions.returnedFen)}${b.unions.notReported > 0 ? `，尚有${b.unions.notReported}个基层工会未报告` : ''}。`,
            ),
          ),
          table(
            ['基层工会', '拨付金额', '报告使用', '慰问人数', '退回金额', '未说明'],
            b.unions.lines.map((l) => [
              l.unionName,
              yuanText(l.allocatedFen),
              yuanText(l.reportedFen),
              String(l.recipients),
              yuanText(l.returnedFen),
              yuanText(l.unaccountedFen),
            ]),
          ),
        ]
      : []),
    table(
      ['慰问类别', '申报', '审核通过', '受慰问', '慰问金额'],
      [
        ...f.categories.map((c) => [
          c.nameZh,
          String(c.nominated),
          String(c.approved),
          String(c.recipients),
          yuanText(c.amountFen),
        ]),
        [
          '合计',
          String(f.totals.nominated),
          String(f.totals.approved),
          String(f.totals.recipients),
          yuanText(f.totals.amountFen),
        ],
      ],
    ),
    ...(opts.chartPng
      ? [
          new Paragraph({
            alignment: AlignmentType.CENTER,
            children: [
              new ImageRun({ type: 'png', data: opts.chartPng, transformation: { width: 600, height: 338 } }),
            ],
          }),
        ]
      : []),
    heading('（二）项目绩效目标', 2),
    para(placeholder('项目绩效目标')),
    heading('（三）项目组织管理情况', 2),
    para(placeholder('组织管理、慰问方式、工作纪律等情况')),
    para(
      text(
        `资金监督：慰问金坚持实名制打款发放，并通过消息通知受慰问职工，通知送达率${formatRate(f.reach)}（${f.reach.num}/${f.reach.den}）。按要求在资金发放${e.workingDays}个工作日内将慰问对象信息录入省工会帮扶工作管理系统：应录入${e.required}人，已录入${e.entered}人（按期${e.enteredOnTime}人、逾期${e.enteredLate}人），尚在期限内待录入${e.due}人，已逾期未录入${e.overdue}人，按期录入率${formatRate(e.onTimeRate)}。`,
      ),
    ),

    heading('二、绩效评价工作开展情况'),
    heading('（一）绩效评价目的、对象和范围', 2),
    para(placeholder('评价目的、对象和范围')),
    heading('（二）绩效评价原则、依据、评价指标体系、评价方法等', 2),
    para(placeholder('评价原则、依据和方法')),
    para(
      text(
        `回访确认：受慰问对象中${f.followUp.confirmedByRecipient}人已自行确认收到，${f.followUp.confirmedByStaff}人经工作人员回访确认，确认率${formatRate(f.followUp)}；反映未收到${f.followUp.notReceived}人，尚未办结的回访任务${f.followUp.openFollowUps}件。`,
      ),
    ),
    heading('（三）绩效评价工作流程', 2),
    para(placeholder('评价工作流程（审计、审计评价等）')),

    heading('三、综合评价情况及评价结论'),
    heading('（一）绩效评价综合结论', 2),
    para(placeholder('综合评价结论')),
    heading('（二）绩效目标实现情况等', 2),
    para(
      text(
        `主要指标：资金发放率${formatRate(f.disbursement)}（已发放${f.disbursement.num}人/审核通过${f.disbursement.den}人）；预算执行率${formatRate(b.execution)}；通知送达率${formatRate(f.reach)}；回访确认率${formatRate(f.followUp)}；按期录入率${formatRate(e.onTimeRate)}。`,
      ),
      placeholder('对目标实现情况的评价'),
    ),

    heading('四、绩效评价指标分析'),
    heading('（一）项目决策情况分析', 2),
    para(placeholder('项目决策情况')),
    heading('（二）项目过程情况分析', 2),
    para(
      text(
        `申报及时性：共受理申报${f.timeliness.submission.den}件，在申报截止前提交${f.timeliness.submission.num}件，按时提交率${formatRate(f.timeliness.submission)}。审核及时性：已审核${f.timeliness.review.den}件，在${f.timeliness.review.slaHours}小时内完成审核${f.timeliness.review.num}件，按时审核率${formatRate(f.timeliness.review)}。通知下达：活动开放申报后${f.opening.reachHours}小时内通知送达${f.opening.reached.num}个基层工会（共${f.opening.reached.den}个，${formatRate(f.opening.reached)}）；${f.opening.unionsSubmitted}个基层工会已提交申报，自开放申报至首次提交的时间中位数为${f.opening.medianHoursToFirstSubmission ?? '—'}小时。`,
      ),
      placeholder('资金监管、专款专用及廉洁纪律执行情况'),
    ),
    heading('（三）项目产出情况分析', 2),
    para(
      text(
        `对${categoryLine(f) || '0名慰问对象'}开展了慰问。审核通过${f.totals.approved}人，已发放${f.totals.recipients}人，送温暖慰问资金和慰问品发放率${formatRate(f.disbursement)}；尚待发放${f.totals.unpaid}人。`,
      ),
      placeholder('产出情况的其他说明'),
    ),
    heading('（四）项目效益情况分析', 2),
    para(placeholder('社会效益、职工满意度等')),

    heading('五、主要经验及做法'),
    para(placeholder('主要经验及做法')),

    heading('六、存在的问题及原因分析'),
    para(
      text(
        `数据准确性：审核中退回补正${acc.returnDecisions}次（涉及${acc.returnedNominations}件），原因：${reasons(acc.returnedByReason, REASON_ZH)}；驳回${acc.rejectDecisions}次（涉及${acc.rejectedNominations}件），原因：${reasons(acc.rejectedByReason, REASON_ZH)}。录入环节拦截重复申报${acc.duplicatesBlocked}次，发现身份证号码错误${acc.idErrorsCaught}次；系统提示需重点核查：${reasons(acc.flags, FLAG_ZH)}。`,
      ),
    ),
    para(placeholder('存在的问题及原因分析')),

    heading('七、有关建议'),
    para(placeholder('有关建议')),

    new Paragraph({
      alignment: AlignmentType.RIGHT,
      spacing: { before: 480 },
      children: [text(f.campaign.organiser)],
    }),
    new Paragraph({ alignment: AlignmentType.RIGHT, children: [placeholder('成文日期')] }),
  ];

  const doc = new Document({
    creator: f.campaign.organiser,
    title: `${f.campaign.titleZh}项目支出绩效评价报告`,
    sections: [{ children }],
  });
  return Packer.toBuffer(doc);
}
