import type { NominationDeps } from '../../../../usecases/nominations/shared.ts';
import type { BotDeps, Feature, ShellApi } from '../../kit.ts';
import { reviewTaskHook } from '../review-hooks.ts';
import { dialogActions } from './actions.ts';
import { dialogFlow } from './flow.ts';
import { DIALOG, type NominateKit } from './prompts.ts';
import { dialogSteps } from './steps.ts';

// The guided nomination dialog (/nominate), wired: questions (steps.ts, prompts.ts, summary.ts),
// buttons (actions.ts) and the moves they share (flow.ts). Handlers parse the input, call one use case
// of src/usecases/nominations and reply; the draft lives in PostgreSQL and the session holds only the
// draft id, the step and the notes for the next question.

export function nominateFeature(deps: BotDeps, shell: ShellApi): Feature {
  const nd: NominationDeps = {
    db: deps.db,
    cipher: deps.cipher,
    now: deps.now,
    onSubmitted: reviewTaskHook(deps),
  };
  const k: NominateKit = { deps, nd };
  const flow = dialogFlow(k, shell);
  const contact = ['contact'] as const;
  return {
    commands: [{ name: 'nominate', access: contact, handler: (ctx) => flow.begin(ctx) }],
    dialogs: [{ name: DIALOG, access: contact, first: 'category', steps: dialogSteps(k, flow) }],
    callbacks: dialogActions(k, shell, flow),
  };
}
