import type { BotMessageView } from '../../src/emulator/types.ts';
import type { Person } from './conversation.ts';

// Drives the guided nomination dialog loosely, by recognising each prompt from its wording rather than
// by a fixed script, so wording and button changes in the dialog do not break the load tests. Used by
// test/e2e/ordering.test.ts and bench/dialog.bench.ts. A refusal ("press a button") or an apology is
// an error; a message it does not recognise is skipped.

export interface NomineeAnswers {
  category: RegExp;
  name: string;
  idNumber: string;
  phone: string;
  employer: string;
  description: string;
}

type Stage =
  | 'submitted'
  | 'summary'
  | 'draft'
  | 'discarded'
  | 'confirm_id'
  | 'category'
  | 'id_number'
  | 'name'
  | 'phone'
  | 'employer'
  | 'description';

/** The bot refusing an answer because the dialog was not where the person was. */
export const REFUSAL = /请点击上面消息中的按钮作答|press a button|use the buttons/i;
/** The bot apologising for a failure (internal error or unavailable). */
export const APOLOGY = /抱歉，处理时出现了问题|暂时无法|temporarily unavailable|something went wrong/i;
/** The bot refusing an answer as invalid (the driver's answers are all valid: a driver bug). */
const INVALID = /请重新输入|请核对后重新输入/;

const GIVEN = '伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂';
/** A valid Chinese name for person `n` (names may not contain digits). */
export function nameFor(n: number): string {
  return `骑手${GIVEN[n % GIVEN.length]}${GIVEN[Math.floor(n / GIVEN.length) % GIVEN.length]}`;
}

const STAGES: [Stage, RegExp][] = [
  ['submitted', /申报已提交/],
  ['summary', /请核对申报信息/],
  ['draft', /未完成的申报/],
  ['discarded', /草稿已删除/],
  ['confirm_id', /是否正确/],
  ['category', /请选择慰问类别/],
  ['id_number', /18位居民身份证号码/],
  ['name', /慰问对象的姓名/],
  ['phone', /11位手机号码/],
  ['employer', /工作单位/],
  ['description', /困难情况|情况说明|简要说明/],
];

export function stageOf(m: BotMessageView): Stage | undefined {
  const text = m.text ?? m.caption ?? '';
  if (REFUSAL.test(text) || APOLOGY.test(text) || INVALID.test(text))
    throw new Error(`the bot refused or failed: ${text}`);
  return STAGES.find(([, re]) => re.test(text))?.[0];
}

export interface StepTiming {
  stage: Stage;
  /** From the person's action to the bot's matching message (emulator acceptance time). */
  ms: number;
}

/** Waits for the next prompt (a new message or an edit) after the person's last action. */
export async function nextStage(
  u: Person,
  done: ReadonlySet<Stage>,
  timeoutMs = 60_000,
): Promise<{ stage: Stage; message: BotMessageView }> {
  let found: Stage | undefined;
  const message = await u.handle.waitForChange({
    since: u.handle.lastActionSeq,
    match: (m) => {
      const s = stageOf(m);
      if (s && !done.has(s)) {
        found = s;
        return true;
      }
      return false;
    },
    timeoutMs,
  });
  return { stage: found!, message };
}

/** A full nomination from /nominate to "submitted". Returns each step's reply time. */
export async function completeNomination(
  u: Person,
  a: NomineeAnswers,
  opts: { timeoutMs?: number } = {},
): Promise<StepTiming[]> {
  const timings: StepTiming[] = [];
  const done = new Set<Stage>();
  let actedAt = Date.now();
  await u.send('/nominate');
  for (let i = 0; i < 40; i++) {
    const { stage, message } = await nextStage(u, done, opts.timeoutMs);
    timings.push({ stage, ms: (message.editedAt ?? message.sentAt) - actedAt });
    if (stage === 'submitted') return timings;
    done.add(stage);
    actedAt = Date.now();
    switch (stage) {
      case 'summary':
        await u.press(/提交/);
        break;
      case 'draft':
        await u.press(/删除草稿|重新开始/);
        break;
      case 'discarded':
        done.delete('category');
        await u.send('/nominate');
        break;
      case 'confirm_id':
        await u.press(/正确/);
        break;
      case 'category':
        await u.press(a.category);
        break;
      case 'id_number':
        await u.send(a.idNumber);
        break;
      case 'name':
        await u.send(a.name);
        break;
      case 'phone':
        await u.send(a.phone);
        break;
      case 'employer':
        await u.send(a.employer);
        break;
      case 'description':
        await u.send(a.description);
        break;
    }
  }
  throw new Error(`user ${u.id}: the dialog did not end after 40 steps:\n${await u.dump()}`);
}
