import type { Feature, BotDeps, ShellApi } from './adapters/telegram/kit.ts';
import { adminFeature } from './adapters/telegram/features/admin.ts';
import { campaignsFeature } from './adapters/telegram/features/campaigns.ts';
import { basicFeature } from './adapters/telegram/features/basic.ts';
import { inviteFeature } from './adapters/telegram/features/invite.ts';
import { deadlinesFeature } from './adapters/telegram/features/deadlines.ts';
import { myFeature } from './adapters/telegram/features/my.ts';
import { nominateFeature } from './adapters/telegram/features/nominate/index.ts';
import { allocationsFeature } from './adapters/telegram/features/allocations.ts';
import { auditFeature } from './adapters/telegram/features/audit.ts';
import { reportFeature } from './adapters/telegram/features/report.ts';
import { reviewFeature } from './adapters/telegram/features/review.ts';
import { reviewResumeFeature } from './adapters/telegram/features/review-resume.ts';
import { uploadFeature } from './adapters/telegram/features/upload.ts';
import { paymentsFeature } from './adapters/telegram/features/payments.ts';
import { recipientsFeature } from './adapters/telegram/features/recipients.ts';
import { followupsFeature } from './adapters/telegram/features/followups.ts';
import { announceFeature } from './adapters/telegram/features/announce.ts';

/** Every chat feature of the bot, in the order their commands appear in menus and /help. */
export function allFeatures(deps: BotDeps, shell: ShellApi): Feature[] {
  return [
    basicFeature(deps, shell),
    inviteFeature(deps, shell),
    nominateFeature(deps, shell),
    myFeature(deps),
    reviewFeature(deps, shell),
    reviewResumeFeature(deps, shell),
    adminFeature(deps, shell),
    campaignsFeature(deps, shell),
    deadlinesFeature(deps, shell),
    // Before the document handlers below: a .pdf/.docx captioned /notice_doc, or one awaited by /announce.
    announceFeature(deps, shell),
    // Before uploadFeature: a returned provincial entry list (admins / finance) is handled here.
    reportFeature(deps),
    auditFeature(deps),
    // Before uploadFeature: a union's allocation report (photo, then sheet) awaited after /allocation_report.
    allocationsFeature(deps),
    // Before uploadFeature: a bank return file / handover list awaited after /batch_return, /handover_sheet.
    paymentsFeature(deps),
    recipientsFeature(deps, shell),
    followupsFeature(deps, shell),
    // After campaignsFeature: its .yaml handler must see documents first.
    uploadFeature(deps, shell),
  ];
}
