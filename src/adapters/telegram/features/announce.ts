import type { Telegraf } from 'telegraf';
import { message } from 'telegraf/filters';
import type { Document } from 'telegraf/types';
import {
  type AckRef,
  acknowledgeNotice,
  announceableCampaign,
  announceStatus,
  AUDIENCES,
  type Audience,
  attachCampaignDocument,
  chaseIdleUnions,
  findUnions,
  isNoticeDocument,
  MAX_ANNOUNCEMENT_CHARS,
  NOTICE_DOCUMENT_MAX_BYTES,
  newRequestKey,
  previewAnnouncement,
  sendAnnouncement,
} from '../../../usecases/announcements.ts';
import type { BotContext, DialogState } from '../context.ts';
import { allowed, type BotDeps, button, type Feature, refusal, type ShellApi } from '../kit.ts';

// Campaign notices, staff side and the contact's "已阅":
// - /announce <campaign> (admins): text, optional .pdf/.docx, audience (all contacts / unions that have
//   submitted nothing / unions with returned items / one union), a preview with the number of
//   recipients, confirmation; then the notice pipeline sends it (stored and audited).
// - /announce_status <campaign> (admins, reviewers): per union delivered / acknowledged / started /
//   submitted, the unions that have done nothing first, paged; admins chase those with one button.
// - The campaign's notice document: an admin sends the .pdf/.docx with the caption /notice_doc <campaign>.
// - "已阅" (an_ack) under a campaign notice marks it read.

const DIALOG = 'announce';
const PAGE_SIZE = 20;

export function announceFeature(deps: BotDeps, shell: ShellApi): Feature {
  const admin = ['admin'] as const;
  const staff = ['admin', 'reviewer'] as const;
  const title = (ctx: BotContext, c: { titleZh: string; titleEn: string }) =>
    ctx.locale === 'en' ? c.titleEn : c.titleZh;
  const dialogState = (ctx: BotContext) =>
    ctx.session.dialog?.name === DIALOG ? ctx.session.dialog : undefined;

  const audienceLabel = (ctx: BotContext, d: DialogState['data']) =>
    d['audience'] === 'union'
      ? ctx.t('announce.audience_one', { union: String(d['unionName'] ?? '') })
      : ctx.t(`announce.audience_${String(d['audience'])}`);

  /** The status page (text and buttons) of one campaign. */
  async function statusView(ctx: BotContext, campaignId: number, page: number) {
    const s = await announceStatus(deps.db, campaignId, deps.now());
    if (!s) return null;
    const pages = Math.max(1, Math.ceil(s.unions.length / PAGE_SIZE));
    const p = Math.min(Math.max(0, page), pages - 1);
    const lines = [
      ctx.t('announce.status_title', { campaign: title(ctx, s.campaign), code: s.campaign.code }),
      ctx.t('announce.status_totals', s.totals),
    ];
    if (s.campaign.noticeDocument) {
      lines.push(
        ctx.t(s.documentUploaded ? 'announce.status_document' : 'announce.status_document_missing', {
          file: s.campaign.noticeDocument,
          code: s.campaign.code,
        }),
      );
    }
    lines.push('');
    for (const u of s.unions.slice(p * PAGE_SIZE, (p + 1) * PAGE_SIZE)) {
      const mark = u.idle ? '⚪' : u.submitted > 0 ? '✅' : u.started > 0 ? '✏️' : '👁';
      let line = ctx.t('announce.status_line', {
        mark,
        union: u.name,
        delivered: u.delivered,
        contacts: u.contacts,
        acknowledged: u.acknowledged,
        started: u.started,
        submitted: u.submitted,
      });
      if (u.unreachable > 0) line += ctx.t('announce.status_unreachable', { n: u.unreachable });
      if (u.contacts === 0) line += ctx.t('announce.status_no_contact');
      lines.push(line);
    }
    if (pages > 1) lines.push('', ctx.t('announce.status_page', { page: p + 1, pages }));
    const rows = [];
    if (pages > 1) {
      const nav = [];
      if (p > 0) nav.push(button(deps, ctx, ctx.t('announce.btn_prev'), 'an_page', campaignId, p - 1));
      if (p < pages - 1)
        nav.push(button(deps, ctx, ctx.t('announce.btn_next'), 'an_page', campaignId, p + 1));
      rows.push(nav);
    }
    if (s.totals.idle > 0 && ctx.who.access.roles.has('admin')) {
      // The nonce makes this button's press one follow-up: pressing it twice sends nothing more.
      const nonce = Math.floor(deps.now().getTime() / 1000).toString(36);
      rows.push([
        button(deps, ctx, ctx.t('announce.btn_chase', { n: s.totals.idle }), 'an_chase', campaignId, nonce),
      ]);
    }
    return { text: lines.join('\n'), rows };
  }

  async function onDialogDocument(ctx: BotContext, doc: Document, state: DialogState) {
    if (!isNoticeDocument(doc)) return ctx.reply(ctx.t('announce.file_refused'));
    if ((doc.file_size ?? 0) > NOTICE_DOCUMENT_MAX_BYTES) return ctx.reply(ctx.t('announce.file_too_large'));
    state.data['fileId'] = doc.file_id;
    state.data['fileName'] = doc.file_name ?? 'document';
    await shell.dialogs.apply(ctx, { next: 'audience' });
  }

  async function onNoticeDoc(ctx: BotContext, doc: Document, code: string) {
    if (!code) return ctx.reply(ctx.t('announce.notice_doc_usage'));
    const r = await attachCampaignDocument(deps.db, {
      actorId: ctx.who.id,
      campaignCode: code,
      fileId: doc.file_id,
      fileUniqueId: doc.file_unique_id,
      ...(doc.file_name ? { fileName: doc.file_name } : {}),
      ...(doc.mime_type ? { mimeType: doc.mime_type } : {}),
      ...(doc.file_size !== undefined ? { sizeBytes: doc.file_size } : {}),
    });
    if (!r.ok) {
      if (r.problem === 'campaign_unknown') return ctx.reply(ctx.t('announce.campaign_unknown', { code }));
      return ctx.reply(
        ctx.t(r.problem === 'too_large' ? 'announce.file_too_large' : 'announce.file_refused'),
      );
    }
    if (r.matches)
      return ctx.reply(ctx.t('announce.notice_doc_saved', { file: r.fileName, code: r.campaignCode }));
    return ctx.reply(
      ctx.t(r.expected ? 'announce.notice_doc_other' : 'announce.notice_doc_unnamed', {
        file: r.fileName,
        code: r.campaignCode,
        expected: r.expected ?? '',
      }),
    );
  }

  return {
    commands: [
      {
        name: 'announce',
        access: admin,
        handler: async (ctx, args) => {
          const code = args.split(/\s+/)[0] ?? '';
          if (!code) return ctx.reply(ctx.t('announce.usage'));
          const c = await announceableCampaign(deps.db, code);
          if (!c) return ctx.reply(ctx.t('announce.campaign_unknown', { code }));
          await shell.dialogs.start(ctx, DIALOG, {
            campaignId: c.id,
            code: c.code,
            title: title(ctx, c),
            requestKey: newRequestKey(),
          });
        },
      },
      {
        name: 'announce_status',
        access: staff,
        handler: async (ctx, args) => {
          const code = args.split(/\s+/)[0] ?? '';
          if (!code) return ctx.reply(ctx.t('announce.status_usage'));
          const c = await announceableCampaign(deps.db, code);
          if (!c) return ctx.reply(ctx.t('announce.campaign_unknown', { code }));
          const v = await statusView(ctx, c.id, 0);
          if (!v) return ctx.reply(ctx.t('announce.campaign_unknown', { code }));
          return ctx.reply(v.text, v.rows.length ? { reply_markup: { inline_keyboard: v.rows } } : {});
        },
      },
      {
        name: 'notice_doc',
        access: admin,
        // As a text command it only explains: the file itself comes as a document with this caption.
        handler: (ctx) => ctx.reply(ctx.t('announce.notice_doc_usage')),
      },
    ],
    callbacks: [
      {
        action: 'an_ack',
        access: 'anyone',
        handler: async (ctx, [kind, id]) => {
          const n = Number(id);
          if ((kind !== 'o' && kind !== 'a') || !Number.isInteger(n) || n <= 0)
            return ctx.reply(ctx.t('errors.button_invalid'));
          const ref: AckRef = kind === 'o' ? { kind, campaignId: n } : { kind, announcementId: n };
          const r = await acknowledgeNotice(deps.db, { personId: ctx.who.id, ref, now: deps.now() });
          return ctx.reply(ctx.t(`announce.ack_${r}`));
        },
      },
      {
        action: 'an_nofile',
        access: admin,
        handler: async (ctx) => {
          const state = dialogState(ctx);
          if (state?.step !== 'file') return ctx.reply(ctx.t('dialog.expired'));
          await shell.dialogs.apply(ctx, { next: 'audience' });
        },
      },
      {
        action: 'an_aud',
        access: admin,
        handler: async (ctx, [audience]) => {
          const state = dialogState(ctx);
          if (state?.step !== 'audience') return ctx.reply(ctx.t('dialog.expired'));
          if (!(AUDIENCES as readonly string[]).includes(audience ?? ''))
            return ctx.reply(ctx.t('errors.button_invalid'));
          state.data['audience'] = audience!;
          await shell.dialogs.apply(ctx, { next: audience === 'union' ? 'union' : 'confirm' });
        },
      },
      {
        action: 'an_union',
        access: admin,
        handler: async (ctx, [id]) => {
          const state = dialogState(ctx);
          if (state?.step !== 'union') return ctx.reply(ctx.t('dialog.expired'));
          const unions = await findUnions(
            deps.db,
            Number(state.data['campaignId']),
            String(state.data['unionQuery'] ?? ''),
          );
          const u = unions.find((x) => x.id === Number(id));
          if (!u)
            return ctx.reply(
              ctx.t('announce.union_unknown', { query: String(state.data['unionQuery'] ?? '') }),
            );
          state.data['unionId'] = u.id;
          state.data['unionName'] = u.name;
          await shell.dialogs.apply(ctx, { next: 'confirm' });
        },
      },
      {
        action: 'an_send',
        access: admin,
        handler: async (ctx) => {
          const state = dialogState(ctx);
          if (state?.step !== 'confirm') return ctx.reply(ctx.t('dialog.expired'));
          const d = state.data;
          const r = await sendAnnouncement(
            deps.db,
            deps.queues,
            {
              campaignId: Number(d['campaignId']),
              text: String(d['text'] ?? ''),
              fileId: typeof d['fileId'] === 'string' ? d['fileId'] : null,
              fileName: typeof d['fileName'] === 'string' ? d['fileName'] : null,
              audience: String(d['audience']) as Audience,
              unionId: typeof d['unionId'] === 'number' ? d['unionId'] : null,
              actorId: ctx.who.id,
              requestKey: String(d['requestKey']),
            },
            deps.now(),
          );
          if (!r.ok) {
            if (r.problem === 'no_recipients') {
              await ctx.reply(ctx.t('announce.no_recipients'));
              return shell.dialogs.apply(ctx, { next: 'audience' });
            }
            delete ctx.session.dialog;
            return ctx.reply(ctx.t(`announce.problem_${r.problem}`, { code: String(d['code']) }));
          }
          delete ctx.session.dialog;
          return ctx.reply(
            ctx.t(r.repeated ? 'announce.sent_already' : 'announce.sent', {
              n: r.recipients,
              unions: r.unions,
              code: String(d['code']),
            }),
          );
        },
      },
      {
        action: 'an_page',
        access: staff,
        handler: async (ctx, [id, page]) => {
          const v = await statusView(ctx, Number(id), Number(page));
          if (!v) return ctx.reply(ctx.t('errors.button_invalid'));
          return ctx.editMessageText(v.text, { reply_markup: { inline_keyboard: v.rows } });
        },
      },
      {
        action: 'an_chase',
        access: admin,
        handler: async (ctx, [id, nonce]) => {
          const r = await chaseIdleUnions(
            deps.db,
            deps.queues,
            { actorId: ctx.who.id, campaignId: Number(id), requestKey: String(nonce) },
            deps.now(),
          );
          if (!r.ok) {
            return ctx.reply(
              ctx.t(r.problem === 'no_recipients' ? 'announce.chase_none' : `announce.problem_${r.problem}`, {
                code: String(id),
              }),
            );
          }
          return ctx.reply(
            ctx.t(r.repeated ? 'announce.chase_already' : 'announce.chase_sent', {
              n: r.recipients,
              unions: r.unions,
            }),
          );
        },
      },
    ],
    dialogs: [
      {
        name: DIALOG,
        access: admin,
        first: 'text',
        steps: {
          text: {
            prompt: (ctx, state) =>
              ctx.reply(
                ctx.t('announce.ask_text', {
                  campaign: String(state.data['title']),
                  max: MAX_ANNOUNCEMENT_CHARS,
                }),
              ),
            onText: async (ctx, text, state) => {
              const t = text.trim();
              if (t.length > MAX_ANNOUNCEMENT_CHARS) {
                await ctx.reply(
                  ctx.t('announce.text_too_long', { max: MAX_ANNOUNCEMENT_CHARS, n: t.length }),
                );
                return { stay: true };
              }
              if (t === '') {
                await ctx.reply(ctx.t('announce.text_empty'));
                return { stay: true };
              }
              state.data['text'] = t;
              return { next: 'file' };
            },
          },
          file: {
            prompt: (ctx) =>
              ctx.reply(ctx.t('announce.ask_file'), {
                reply_markup: {
                  inline_keyboard: [
                    [
                      button(deps, ctx, ctx.t('announce.btn_no_file'), 'an_nofile'),
                      button(deps, ctx, ctx.t('buttons.cancel'), 'dlg_cancel'),
                    ],
                  ],
                },
              }),
            onText: async (ctx) => {
              await ctx.reply(ctx.t('announce.file_expected'));
              return { stay: true };
            },
          },
          audience: {
            prompt: (ctx) =>
              ctx.reply(ctx.t('announce.ask_audience'), {
                reply_markup: {
                  inline_keyboard: [
                    ...AUDIENCES.map((a) => [
                      button(deps, ctx, ctx.t(`announce.audience_${a}`), 'an_aud', a),
                    ]),
                    [button(deps, ctx, ctx.t('buttons.cancel'), 'dlg_cancel')],
                  ],
                },
              }),
          },
          union: {
            prompt: (ctx) => ctx.reply(ctx.t('announce.ask_union')),
            onText: async (ctx, text, state) => {
              const unions = await findUnions(deps.db, Number(state.data['campaignId']), text);
              if (unions.length === 0) {
                await ctx.reply(ctx.t('announce.union_unknown', { query: text.trim().slice(0, 50) }));
                return { stay: true };
              }
              state.data['unionQuery'] = text.trim().slice(0, 50);
              if (unions.length === 1) {
                state.data['unionId'] = unions[0]!.id;
                state.data['unionName'] = unions[0]!.name;
                return { next: 'confirm' };
              }
              await ctx.reply(ctx.t('announce.union_pick'), {
                reply_markup: {
                  inline_keyboard: unions.map((u) => [button(deps, ctx, u.name, 'an_union', u.id)]),
                },
              });
              return { stay: true };
            },
          },
          confirm: {
            prompt: async (ctx, state) => {
              const d = state.data;
              const preview = await previewAnnouncement(
                deps.db,
                {
                  campaignId: Number(d['campaignId']),
                  text: String(d['text'] ?? ''),
                  audience: String(d['audience']) as Audience,
                  unionId: typeof d['unionId'] === 'number' ? d['unionId'] : null,
                },
                deps.now(),
              );
              if (preview.recipients === 0) {
                await ctx.reply(ctx.t('announce.no_recipients'));
                state.step = 'audience';
                return shell.dialogs.reprompt(ctx);
              }
              return ctx.reply(
                ctx.t('announce.preview', {
                  campaign: String(d['title']),
                  text: String(d['text'] ?? ''),
                  file: typeof d['fileName'] === 'string' ? d['fileName'] : ctx.t('announce.no_file'),
                  audience: audienceLabel(ctx, d),
                  n: preview.recipients,
                  unions: preview.unions,
                }),
                {
                  reply_markup: {
                    inline_keyboard: [
                      [
                        button(deps, ctx, ctx.t('announce.btn_send', { n: preview.recipients }), 'an_send'),
                        button(deps, ctx, ctx.t('buttons.cancel'), 'dlg_cancel'),
                      ],
                    ],
                  },
                },
              );
            },
          },
        },
      },
    ],
    install: (bot: Telegraf<BotContext>) => {
      bot.on(message('document'), async (ctx, next) => {
        const doc = ctx.message.document;
        const state = dialogState(ctx);
        if (state?.step === 'file' && allowed(ctx, { access: admin }))
          return onDialogDocument(ctx, doc, state);
        const m = /^\/notice_doc(?:@\w+)?(?:\s+(\S+))?/.exec(ctx.message.caption?.trim() ?? '');
        if (!m) return next();
        if (!allowed(ctx, { access: admin })) return ctx.reply(refusal(ctx, { access: admin }));
        return onNoticeDoc(ctx, doc, m[1] ?? '');
      });
    },
  };
}
