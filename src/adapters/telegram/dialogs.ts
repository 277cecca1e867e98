import type { BotContext, DialogState } from './context.ts';
import { allowed, refusal, type DialogControl, type DialogSpec, type StepResult } from './kit.ts';

// Runs resumable dialogs. The session (Redis) holds { name, step, data }; after a restart the next
// message continues at the same step, and /start or a dialog's own command re-prompts it.

export class DialogRunner implements DialogControl {
  private readonly dialogs = new Map<string, DialogSpec>();

  add(d: DialogSpec): void {
    this.dialogs.set(d.name, d);
  }

  get(name: string): DialogSpec | undefined {
    return this.dialogs.get(name);
  }

  async start(ctx: BotContext, name: string, data: DialogState['data'] = {}): Promise<void> {
    const d = this.dialogs.get(name);
    if (!d) throw new Error(`unknown dialog ${name}`);
    ctx.session.dialog = { name, step: d.first, data, startedAt: Date.now() };
    await d.steps[d.first]!.prompt(ctx, ctx.session.dialog);
  }

  /** Re-asks the current question (used on resume). */
  async reprompt(ctx: BotContext): Promise<boolean> {
    const state = ctx.session.dialog;
    const step = state && this.dialogs.get(state.name)?.steps[state.step];
    if (!state || !step) return false;
    await step.prompt(ctx, state);
    return true;
  }

  /** Feeds a text answer to the dialog in progress; false when there is none. */
  async onText(ctx: BotContext, text: string): Promise<boolean> {
    const state = ctx.session.dialog;
    const d = state && this.dialogs.get(state.name);
    const step = d && state ? d.steps[state.step] : undefined;
    if (!state || !d || !step) {
      if (state) delete ctx.session.dialog; // a dialog from an older version of the bot: drop it
      return false;
    }
    // Roles are read afresh on every update: someone whose role was revoked mid-dialog cannot finish it.
    if (!allowed(ctx, d)) {
      delete ctx.session.dialog;
      await ctx.reply(refusal(ctx, d));
      return true;
    }
    if (!step.onText) {
      await ctx.reply(ctx.t('dialog.use_buttons'));
      await step.prompt(ctx, state);
      return true;
    }
    await this.apply(ctx, await step.onText(ctx, text, state));
    return true;
  }

  async apply(ctx: BotContext, result: StepResult): Promise<void> {
    const state = ctx.session.dialog;
    if (!state) return;
    if ('end' in result) {
      delete ctx.session.dialog;
      return;
    }
    // { stay } after a wrong answer: the error message already says what to send; asking the same
    // question again would only push it out of view.
    if (!('next' in result)) return;
    state.step = result.next;
    const step = this.dialogs.get(state.name)?.steps[state.step];
    if (step) await step.prompt(ctx, state);
  }

  cancel(ctx: BotContext): boolean {
    const had = ctx.session.dialog !== undefined;
    delete ctx.session.dialog;
    return had;
  }
}
