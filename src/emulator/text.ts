import { badRequest } from './errors.ts';
import type { TgEntity } from './types.ts';

const TAGS: Record<string, string> = {
  b: 'bold',
  strong: 'bold',
  i: 'italic',
  em: 'italic',
  u: 'underline',
  ins: 'underline',
  s: 'strikethrough',
  strike: 'strikethrough',
  del: 'strikethrough',
  'tg-spoiler': 'spoiler',
  span: 'spoiler',
  a: 'text_link',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  'tg-emoji': 'custom_emoji',
};

const NAMED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"' };

function decodeEntity(ref: string): string | undefined {
  if (ref.startsWith('#x') || ref.startsWith('#X'))
    return String.fromCodePoint(Number.parseInt(ref.slice(2), 16));
  if (ref.startsWith('#')) return String.fromCodePoint(Number.parseInt(ref.slice(1), 10));
  return NAMED[ref];
}

const byteOffset = (s: string, index: number): number => Buffer.byteLength(s.slice(0, index), 'utf8');

/** Parses Telegram-flavoured HTML into plain text + entities, with Telegram-like errors. */
export function parseHtml(html: string): { text: string; entities: TgEntity[] } {
  let text = '';
  const entities: TgEntity[] = [];
  const open: { tag: string; start: number; attrs: string }[] = [];
  let i = 0;
  while (i < html.length) {
    const ch = html[i]!;
    if (ch === '&') {
      const m = /^&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/.exec(html.slice(i, i + 12));
      const decoded = m ? decodeEntity(m[1]!) : undefined;
      if (m && decoded !== undefined) {
        text += decoded;
        i += m[0].length;
        continue;
      }
      text += ch;
      i += 1;
      continue;
    }
    if (ch !== '<') {
      text += ch;
      i += 1;
      continue;
    }
    const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^>]*)?)>/.exec(html.slice(i));
    if (!m)
      throw badRequest(`can't parse entities: Unsupported start tag at byte offset ${byteOffset(html, i)}`);
    const [whole, closing, rawName, attrs] = m;
    const name = rawName!.toLowerCase();
    if (!(name in TAGS)) {
      throw badRequest(
        `can't parse entities: Unsupported start tag "${name}" at byte offset ${byteOffset(html, i)}`,
      );
    }
    if (closing) {
      const top = open.pop();
      if (!top || top.tag !== name) {
        throw badRequest(
          `can't parse entities: Unmatched end tag at byte offset ${byteOffset(html, i)}, expected "</${top?.tag ?? ''}>", found "</${name}>"`,
        );
      }
      const length = text.length - top.start;
      if (length > 0) {
        const entity: TgEntity = { type: TAGS[name]!, offset: top.start, length };
        const href = /href\s*=\s*["']([^"']*)["']/.exec(top.attrs);
        if (name === 'a') {
          if (href?.[1]) entity.url = href[1];
          else entity.type = 'url';
        }
        if (name === 'blockquote' && /\bexpandable\b/.test(top.attrs)) entity.type = 'expandable_blockquote';
        entities.push(entity);
      }
    } else {
      open.push({ tag: name, start: text.length, attrs: attrs ?? '' });
    }
    i += whole!.length;
  }
  const unclosed = open.pop();
  if (unclosed)
    throw badRequest(`can't parse entities: Can't find end tag corresponding to start tag "${unclosed.tag}"`);
  entities.sort((a, b) => a.offset - b.offset);
  return { text, entities };
}

/** Applies parse_mode (HTML is parsed; Markdown modes are kept verbatim) and trims like Telegram. */
export function formatText(
  raw: string | undefined,
  parseMode: string | undefined,
  given: TgEntity[] | undefined,
): { text: string; entities: TgEntity[] } {
  const source = raw ?? '';
  const parsed =
    parseMode?.toLowerCase() === 'html' ? parseHtml(source) : { text: source, entities: given ?? [] };
  const lead = parsed.text.length - parsed.text.trimStart().length;
  const text = parsed.text.trim();
  const entities = parsed.entities
    .map((e) => ({ ...e, offset: e.offset - lead }))
    .filter((e) => e.offset >= 0 && e.offset < text.length);
  return { text, entities };
}

/** bot_command entities like Telegram adds to incoming user text (offsets in UTF-16 units). */
export function commandEntities(text: string): TgEntity[] {
  const out: TgEntity[] = [];
  const re = /(^|\s)(\/[a-zA-Z0-9_]{1,64}(?:@[a-zA-Z0-9_]{3,64})?)(?=$|\s|[^a-zA-Z0-9_@])/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    out.push({ type: 'bot_command', offset: m.index + m[1]!.length, length: m[2]!.length });
  }
  return out;
}
