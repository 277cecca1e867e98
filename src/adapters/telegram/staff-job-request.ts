import { type JobParams, type StaffJobKind, startStaffJob } from '../../usecases/staff-jobs.ts';
import type { BotContext } from './context.ts';
import type { BotDeps } from './kit.ts';

// The chat side of a staff job (usecases/staff-jobs.ts): answer at once with the one message the
// worker will edit (a new message, or the pressed button's message with `mode: 'edit'`), then the
// worker does the work. A second request for the same thing while the first runs is refused before
// anything is shown: a button press gets a short notice, a command a reply.

export async function requestStaffJob(
  deps: BotDeps,
  ctx: BotContext,
  req: { kind: StaffJobKind; params: JobParams; activeKey: string; mode?: 'reply' | 'edit' },
): Promise<void> {
  const text = ctx.t(`staff_jobs.queued.${req.kind}`);
  const pressed = ctx.callbackQuery?.message;
  const r = await startStaffJob(
    deps,
    {
      kind: req.kind,
      actorId: ctx.who.id,
      chatId: ctx.chat!.id,
      locale: ctx.locale,
      params: req.params,
      activeKey: req.activeKey,
    },
    async () => {
      if (req.mode === 'edit' && pressed) {
        await ctx.editMessageText(text);
        return pressed.message_id;
      }
      return (await ctx.reply(text)).message_id;
    },
  );
  if (r.started) return;
  if (ctx.callbackQuery) await ctx.answerCbQuery(ctx.t('staff_jobs.busy')).catch(() => {});
  else await ctx.reply(ctx.t('staff_jobs.busy'));
}
