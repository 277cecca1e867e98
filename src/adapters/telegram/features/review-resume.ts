import { returnedNomination } from '../../../usecases/nominations/queries.ts';
import type { BotContext } from '../context.ts';
import type { BotDeps, Feature, ShellApi } from '../kit.ts';

// A contact reopens a nomination returned for correction: the reviewer's comment is shown and the
// nomination dialog resumes at its summary with every earlier answer kept (the nomination row is the
// draft; `returned` is editable). Submitting again makes a new revision that is reviewed with a diff.

export async function resumeReturned(deps: BotDeps, shell: ShellApi, ctx: BotContext, nominationId: number) {
  const n = await returnedNomination(deps, { nominationId, personId: ctx.who.id });
  if (!n) {
    await ctx.reply(ctx.t('review.fix_not_returned', { id: nominationId }));
    return;
  }
  ctx.session.dialog = {
    name: 'nominate',
    step: 'summary',
    data: { nid: n.id, editing: null },
    startedAt: Date.now(),
  };
  await shell.dialogs.reprompt(ctx);
}

export function reviewResumeFeature(deps: BotDeps, shell: ShellApi): Feature {
  return {
    callbacks: [
      {
        action: 'rv_fix',
        access: ['contact'],
        handler: (ctx, [id]) => resumeReturned(deps, shell, ctx, Number(id)),
      },
    ],
  };
}
