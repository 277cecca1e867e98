// Renders a Telegram message text with its entities into DOM nodes. Text is only ever added as text
// nodes (never innerHTML), links only with http(s)/tg addresses, so a message cannot inject markup.

/** The URL if it is http(s) or tg, else undefined. */
export function safeUrl(raw) {
  try {
    const url = new URL(String(raw));
    return ['http:', 'https:', 'tg:'].includes(url.protocol) ? url.href : undefined;
  } catch {
    return undefined;
  }
}

const TAGS = {
  bold: 'b',
  italic: 'i',
  underline: 'u',
  strikethrough: 's',
  code: 'code',
  pre: 'pre',
  blockquote: 'blockquote',
  expandable_blockquote: 'blockquote',
};

// Plain stretches get what Telegram detects by itself: web addresses and /commands.
const AUTO =
  /(https?:\/\/[^\s<>"'，。；）」]+[^\s<>"'，。；）」.,;:!?])|((?:^|(?<=[\s（(“：:，,]))\/[a-zA-Z0-9_]{1,32}(?![\w/]))/g;

function plain(parent, text, opts) {
  if (opts.noAuto) {
    parent.append(document.createTextNode(text));
    return;
  }
  let last = 0;
  for (const m of text.matchAll(AUTO)) {
    if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
    if (m[1]) parent.append(link(m[1], m[1], opts));
    else parent.append(command(m[2], opts));
    last = m.index + m[0].length;
  }
  if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
}

function link(href, label, opts) {
  const url = safeUrl(href);
  if (!url) {
    const span = document.createElement('span');
    span.textContent = label;
    return span;
  }
  const a = document.createElement('a');
  a.href = url;
  a.textContent = label;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  opts.onLink?.(a, url);
  return a;
}

function command(text, opts) {
  if (!opts.onCommand) return document.createTextNode(text);
  const a = document.createElement('a');
  a.href = '#';
  a.className = 'command';
  a.textContent = text;
  a.addEventListener('click', (e) => {
    e.preventDefault();
    opts.onCommand(text);
  });
  return a;
}

function element(entity, text, opts) {
  const inner = text.slice(entity.offset, entity.offset + entity.length);
  if (entity.type === 'text_link') return link(entity.url, '', opts);
  if (entity.type === 'url') return link(inner, '', opts);
  if (entity.type === 'bot_command') return command(inner, opts);
  const el = document.createElement(TAGS[entity.type] ?? 'span');
  if (entity.type === 'spoiler') {
    el.className = 'spoiler';
    el.addEventListener('click', () => el.classList.add('revealed'));
  } else if (!TAGS[entity.type]) el.className = `entity-${String(entity.type).replace(/[^a-z_]/g, '')}`;
  return el;
}

function build(parent, text, entities, start, end, opts) {
  let pos = start;
  const list = entities
    .filter((e) => e.offset >= start && e.offset + e.length <= end && e.length > 0)
    .sort((a, b) => a.offset - b.offset || b.length - a.length);
  for (const e of list) {
    if (e.offset < pos) continue; // nested in one already drawn (or overlapping it)
    if (e.offset > pos) plain(parent, text.slice(pos, e.offset), opts);
    const el = element(e, text, opts);
    const children = list.filter(
      (x) => x !== e && x.offset >= e.offset && x.offset + x.length <= e.offset + e.length,
    );
    if (el.nodeType === Node.TEXT_NODE || el.classList?.contains('command')) {
      parent.append(el);
    } else {
      if (el.textContent === '') {
        const inLink = el.tagName === 'A' || e.type === 'text_link' || e.type === 'url';
        const inner = inLink || e.type === 'code' || e.type === 'pre' ? { ...opts, noAuto: true } : opts;
        build(el, text, children, e.offset, e.offset + e.length, inner);
      }
      parent.append(el);
    }
    pos = e.offset + e.length;
  }
  if (pos < end) plain(parent, text.slice(pos, end), opts);
}

/**
 * A fragment showing `text` with `entities` (offsets in UTF-16 code units, as Telegram counts).
 * opts.onCommand(text): a /command was clicked; opts.onLink(a, url): a link element was made.
 */
export function renderText(text, entities = [], opts = {}) {
  const fragment = document.createDocumentFragment();
  build(
    fragment,
    String(text ?? ''),
    Array.isArray(entities) ? entities : [],
    0,
    String(text ?? '').length,
    opts,
  );
  return fragment;
}
