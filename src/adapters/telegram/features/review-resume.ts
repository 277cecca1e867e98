import type { BotContext } from '../context.ts';
import type { BotDeps, Feature, ShellApi } from '../kit.ts';

// A contact reopens a nomination returned for correction: the reviewer's comment is shown and the
// nomination dialog resumes at its summary with every earlier answer kept (the nomination row is the
// draft; `returned` is editable). Submitting again makes a new revision that is reviewed with a diff.

export async function resumeReturned(deps: BotDeps, shell: ShellApi, ctx: BotContext, nominationId: number) {
  const n = await deps.db.nomination.findFirst({
    where: { id: nominationId, submittedById: ctx.who.id },
    select: { id: true, status: true, revision: true },
  });
  if (n?.status !== 'returned') {
    await ctx.reply(ctx.t('review.fix_not_returned', { id: nominationId }));
    return;
  }
  const ret = await deps.db.reviewDecision.findUnique({
    where: { nominationId_revision_kind: { nominationId: n.id, revision: n.revision, kind: 'return' } },
  });
  await ctx.reply(ctx.t('review.fix_intro', { id: n.id, comment: ret?.comment ?? '—' }));
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
