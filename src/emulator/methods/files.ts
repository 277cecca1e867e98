import { badRequest, tooLarge } from '../errors.ts';
import { documentOf, photoOf, type StoredFile } from '../files.ts';
import type { MethodContext, MethodHandler } from './context.ts';
import { markupParam, messageText, replyTo } from './messages.ts';

const KIND = { document: 'documents', photo: 'photos' } as const;
const LABEL = { documents: 'Document', photos: 'Photo' } as const;

/** Resolves the media field: an uploaded part (directly or via attach://) or an existing file_id. */
function mediaFile(ctx: MethodContext, field: 'document' | 'photo'): StoredFile {
  const { bot, params: p } = ctx;
  const kind = KIND[field];
  const ref = p.str(field);
  const partName = ref?.startsWith('attach://') ? ref.slice('attach://'.length) : field;
  const upload = p.files.get(partName);
  if (upload) {
    if (upload.bytes.length > ctx.maxUploadSize) throw tooLarge();
    return bot.files.put(upload.bytes, kind, upload.fileName || undefined, upload.mimeType);
  }
  if (!ref) throw badRequest(`there is no ${field} in the request`);
  const existing = bot.files.get(ref);
  if (!existing) throw badRequest('wrong file identifier/HTTP URL specified');
  if (existing.kind !== kind)
    throw badRequest(`can't use file of type ${LABEL[existing.kind]} as ${LABEL[kind]}`);
  return existing;
}

function sendMedia(field: 'document' | 'photo'): MethodHandler {
  const method = field === 'document' ? 'sendDocument' : 'sendPhoto';
  return (ctx) => {
    const { bot, params: p } = ctx;
    const chat = bot.sendTarget(p);
    const { text: caption, entities } = messageText(p, 'caption');
    if (caption.length > 1024) throw badRequest('message caption is too long');
    const markup = markupParam(p);
    const reply = replyTo(ctx, chat.messages);
    const file = mediaFile(ctx, field);
    bot.throttle(chat.chat.id);
    return bot.addBotMessage(
      chat,
      method,
      {
        ...(field === 'document' ? { document: documentOf(file) } : { photo: photoOf(file) }),
        ...(caption ? { caption } : {}),
        ...(entities.length ? { caption_entities: entities } : {}),
        ...reply,
      },
      markup,
      p.str('parse_mode'),
    );
  };
}

const getFile: MethodHandler = ({ bot, params: p }) => bot.files.describe(p.str('file_id'));

export const fileMethods: Record<string, MethodHandler> = {
  sendDocument: sendMedia('document'),
  sendPhoto: sendMedia('photo'),
  getFile,
};
