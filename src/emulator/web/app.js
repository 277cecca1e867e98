// The sandbox in a browser: one chat pane per person, side by side, over the emulator's control API
// (/_emulator/...). Live updates come as server-sent events (/_emulator/events). No framework, no build.
import { renderText, safeUrl } from './render.js';

const $ = (sel, root = document) => root.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'dataset') Object.assign(node.dataset, v);
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) if (c !== undefined && c !== null) node.append(c);
  return node;
};

const config = await fetch('/web/config.json').then((r) => r.json());
let lang = localStorage.getItem('sandbox.lang') ?? config.defaultLanguage ?? 'zh-CN';
if (!config.strings[lang]) lang = Object.keys(config.strings)[0] ?? 'zh-CN';

/** The page's own text in the chosen language (locales' sandbox_web section), `{name}` filled in. */
function t(key, params = {}) {
  const s = config.strings[lang]?.[key] ?? config.strings['zh-CN']?.[key] ?? key;
  return s.replace(/\{(\w+)\}/g, (m, name) => (name in params ? String(params[name]) : m));
}

async function api(method, path, body) {
  const res = await fetch(`/_emulator${path}`, {
    method,
    ...(body !== undefined
      ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }
      : {}),
  });
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error ?? `${res.status}`);
  return data;
}

function toast(text) {
  const box = $('#toast');
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    box.hidden = true;
  }, 4000);
}

const fail = (err) => toast(t('error', { message: err instanceof Error ? err.message : String(err) }));

// ---- people: the configured ones (the demo's), plus any the user added; which are shown ----
const STORE = 'sandbox.people';
function loadPeople() {
  try {
    const saved = JSON.parse(localStorage.getItem(STORE) ?? 'null');
    if (Array.isArray(saved)) return saved;
  } catch {}
  return config.people.map((p) => ({ ...p, shown: true }));
}
const people = loadPeople();
const savePeople = () => localStorage.setItem(STORE, JSON.stringify(people));

const fileUrl = (fileId, download) =>
  `/_emulator/files/${encodeURIComponent(fileId)}${download ? '?download=1' : ''}`;
const startLink = /^https:\/\/t\.me\/[A-Za-z0-9_]+\?start=([A-Za-z0-9_-]{1,64})$/;

class Pane {
  constructor(person) {
    this.person = person;
    this.nodes = new Map(); // key -> element, reused while the message is unchanged
    this.refreshing = false;
    this.again = false;
    this.messages = el('div', { class: 'messages' });
    this.keyboard = el('div', { class: 'keyboard' });
    this.menu = el('ul', { class: 'menu', hidden: true });
    this.input = el('input', { name: 'text', autocomplete: 'off' });
    this.file = el('input', { type: 'file', hidden: true, onchange: () => this.upload() });
    this.title = el('div', { class: 'who' });
    this.menuButton = el('button', {
      type: 'button',
      class: 'menu-button',
      onclick: () => this.toggleMenu(),
    });
    this.uploadButton = el('button', { type: 'button', class: 'upload', onclick: () => this.file.click() });
    this.sendButton = el('button', { type: 'submit', class: 'send' });
    this.closeButton = el('button', {
      type: 'button',
      class: 'close',
      onclick: () => setShown(person.id, false),
    });
    this.root = el(
      'section',
      { class: 'pane', dataset: { userId: String(person.id) } },
      el('header', {}, this.title, this.closeButton),
      this.messages,
      this.keyboard,
      this.menu,
      el(
        'form',
        { class: 'composer', onsubmit: (e) => this.submit(e) },
        this.menuButton,
        this.uploadButton,
        this.file,
        this.input,
        this.sendButton,
      ),
    );
    this.labels();
  }

  get profile() {
    return {
      firstName: this.person.name || `User ${this.person.id}`,
      languageCode: this.person.languageCode ?? 'zh-hans',
    };
  }

  labels() {
    const role = this.person.role ? t(this.person.role) : '';
    this.title.replaceChildren(
      el('strong', {}, this.person.name || `User ${this.person.id}`),
      el('small', {}, [role, `ID ${this.person.id}`].filter(Boolean).join(' · ')),
    );
    this.menuButton.textContent = `☰ ${t('menu')}`;
    this.menuButton.title = t('menu');
    this.uploadButton.textContent = '📎';
    this.uploadButton.title = t('upload');
    this.sendButton.textContent = t('send');
    this.closeButton.textContent = '✕';
    this.closeButton.title = t('hide');
    this.input.placeholder = t('input_placeholder');
    this.nodes.clear();
    void this.refresh();
  }

  async register() {
    await api('POST', `/users/${this.person.id}`, { profile: this.profile });
  }

  async sendText(text) {
    await api('POST', `/users/${this.person.id}/text`, { text, profile: this.profile });
  }

  async submit(e) {
    e.preventDefault();
    const text = this.input.value;
    if (!text.trim()) return;
    this.input.value = '';
    this.menu.hidden = true;
    await this.sendText(text).catch((err) => {
      this.input.value = text;
      fail(err);
    });
  }

  async upload() {
    const file = this.file.files?.[0];
    this.file.value = '';
    if (!file) return;
    toast(t('uploading', { name: file.name }));
    const base64 = await new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ''));
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(file);
    });
    await api('POST', `/users/${this.person.id}/document`, {
      fileName: file.name,
      base64,
      ...(file.type ? { mimeType: file.type } : {}),
      profile: this.profile,
    }).catch(fail);
  }

  async press(messageId, data) {
    await api('POST', `/users/${this.person.id}/press`, { messageId, data }).catch(fail);
  }

  async toggleMenu() {
    if (!this.menu.hidden) {
      this.menu.hidden = true;
      return;
    }
    await this.refreshMenu();
    this.menu.hidden = false;
  }

  async refreshMenu() {
    const commands = await api('GET', `/chats/${this.person.id}/commands`).catch(() => []);
    this.menu.replaceChildren(
      ...(commands.length
        ? commands.map((c) =>
            el(
              'li',
              {},
              el(
                'button',
                {
                  type: 'button',
                  dataset: { command: c.command },
                  onclick: () => {
                    this.menu.hidden = true;
                    this.sendText(`/${c.command}`).catch(fail);
                  },
                },
                el('b', {}, `/${c.command}`),
                c.description,
              ),
            ),
          )
        : [el('li', { class: 'empty' }, t('menu_empty'))]),
    );
  }

  /** Re-reads the chat; calls while one runs are folded into one more run. */
  async refresh() {
    if (this.refreshing) {
      this.again = true;
      return;
    }
    this.refreshing = true;
    try {
      do {
        this.again = false;
        const [history, answers] = await Promise.all([
          api('GET', `/chats/${this.person.id}/history`),
          api('GET', `/chats/${this.person.id}/callback-answers`),
        ]);
        this.draw(history, answers);
      } while (this.again);
    } catch (err) {
      fail(err);
    } finally {
      this.refreshing = false;
    }
  }

  draw(history, answers) {
    const atBottom = this.messages.scrollHeight - this.messages.scrollTop - this.messages.clientHeight < 40;
    const items = [
      ...history.filter((m) => !m.deleted).map((m) => ({ at: m.sentAt, m })),
      ...answers.filter((a) => a.text).map((a) => ({ at: a.at, a })),
    ].sort((x, y) => x.at - y.at);
    const next = new Map();
    const children = items.map((item) => {
      const key = item.m
        ? `${item.m.from}:${item.m.messageId}:${item.m.seq}:${item.m.edits.length}`
        : `answer:${item.a.callbackQueryId}`;
      const node = this.nodes.get(key) ?? (item.m ? this.message(item.m) : this.answer(item.a));
      next.set(key, node);
      return node;
    });
    this.nodes = next;
    this.messages.replaceChildren(
      ...(children.length ? children : [el('p', { class: 'empty' }, t('empty_chat'))]),
    );
    this.drawKeyboard(history);
    if (atBottom) this.messages.scrollTop = this.messages.scrollHeight;
  }

  answer(a) {
    return el(
      'div',
      { class: `note${a.showAlert ? ' alert' : ''}` },
      `${a.showAlert ? '⚠️' : '💬'} ${a.text}`,
    );
  }

  message(m) {
    const box = el('div', { class: `msg ${m.from}`, dataset: { messageId: String(m.messageId) } });
    const photo = m.photo?.at(-1);
    if (photo) {
      const img = el('img', {
        class: 'photo',
        src: fileUrl(photo.file_id),
        alt: t('photo'),
        loading: 'lazy',
      });
      img.addEventListener('load', () => {
        if (
          this.messages.scrollHeight - this.messages.scrollTop - this.messages.clientHeight <
          img.height + 60
        )
          this.messages.scrollTop = this.messages.scrollHeight;
      });
      box.append(el('a', { href: fileUrl(photo.file_id), target: '_blank', rel: 'noopener' }, img));
    }
    if (m.document) {
      const name = m.document.file_name ?? m.document.file_id;
      const size = m.document.file_size ? ` (${formatSize(m.document.file_size)})` : '';
      box.append(
        el(
          'div',
          { class: 'doc' },
          el(
            'a',
            { href: fileUrl(m.document.file_id, true), download: name, title: t('download') },
            `📎 ${name}${size}`,
          ),
        ),
      );
    }
    const text = m.text ?? m.caption;
    if (text !== undefined) {
      box.append(
        el(
          'div',
          { class: 'text' },
          renderText(text, m.entities ?? [], {
            onCommand: (cmd) => this.sendText(cmd).catch(fail),
            onLink: (a, url) => linkHandler(a, url),
          }),
        ),
      );
    }
    const rows = m.replyMarkup?.inline_keyboard ?? [];
    if (m.from === 'bot' && rows.length) {
      box.append(
        el(
          'div',
          { class: 'inline' },
          ...rows.map((row) =>
            el(
              'div',
              { class: 'row' },
              ...row.map((b) => {
                if (b.callback_data !== undefined)
                  return el(
                    'button',
                    {
                      type: 'button',
                      dataset: { callback: b.callback_data },
                      onclick: () => this.press(m.messageId, b.callback_data),
                    },
                    b.text,
                  );
                const url = safeUrl(b.url);
                const a = el(
                  'a',
                  { href: url ?? '#', target: '_blank', rel: 'noopener noreferrer' },
                  `${b.text} ↗`,
                );
                if (url) linkHandler(a, url);
                return a;
              }),
            ),
          ),
        ),
      );
    }
    const time = new Date(m.sentAt).toLocaleTimeString(lang, {
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    box.append(el('div', { class: 'meta' }, `${m.edits.length ? `${t('edited')} · ` : ''}${time}`));
    return box;
  }

  /** The reply keyboard of the latest bot message that set or removed one. */
  drawKeyboard(history) {
    const last = [...history]
      .reverse()
      .find((m) => m.from === 'bot' && !m.deleted && (m.keyboard || m.removeKeyboard));
    const rows = last?.keyboard ?? [];
    this.keyboard.replaceChildren(
      ...rows.map((row) =>
        el(
          'div',
          { class: 'row' },
          ...row.map((label) =>
            el('button', { type: 'button', onclick: () => this.sendText(label).catch(fail) }, label),
          ),
        ),
      ),
    );
  }
}

function formatSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** A t.me/<bot>?start=<payload> link opens the chat of a person the user picks, with /start <payload>. */
function linkHandler(a, url) {
  const m = startLink.exec(url);
  if (!m) return;
  a.addEventListener('click', (e) => {
    e.preventDefault();
    const dialog = $('#open-as');
    const choices = $('.choices', dialog);
    choices.replaceChildren(
      ...people.map((p) =>
        el(
          'button',
          {
            type: 'button',
            dataset: { userId: String(p.id) },
            onclick: () => {
              dialog.close();
              setShown(p.id, true);
              panes.get(p.id)?.sendText(`/start ${m[1]}`).catch(fail);
            },
          },
          `${p.name || p.id}${p.role ? ` · ${t(p.role)}` : ''}`,
        ),
      ),
    );
    dialog.showModal();
  });
}

// ---- the page ----
const panes = new Map();

function drawChips() {
  $('#people-chips').replaceChildren(
    ...people.map((p) =>
      el(
        'button',
        {
          type: 'button',
          class: 'chip',
          'aria-pressed': p.shown ? 'true' : 'false',
          dataset: { userId: String(p.id) },
          onclick: () => setShown(p.id, !p.shown),
        },
        `${p.name || p.id}${p.role ? ` · ${t(p.role)}` : ''}`,
      ),
    ),
  );
}

function drawPanes() {
  for (const p of people) {
    if (p.shown && !panes.has(p.id)) {
      const pane = new Pane(p);
      panes.set(p.id, pane);
      pane.register().catch(fail);
    }
    if (!p.shown && panes.has(p.id)) {
      panes.get(p.id).root.remove();
      panes.delete(p.id);
    }
  }
  $('#panes').replaceChildren(...people.filter((p) => p.shown).map((p) => panes.get(p.id).root));
  drawChips();
}

function setShown(id, shown) {
  const p = people.find((x) => x.id === id);
  if (!p) return;
  p.shown = shown;
  savePeople();
  drawPanes();
}

function drawStatic() {
  document.documentElement.lang = lang;
  document.title = t('title');
  for (const node of document.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll('[data-i18n-placeholder]'))
    node.placeholder = t(node.dataset.i18nPlaceholder);
  const other = lang === 'en' ? 'zh-CN' : 'en';
  $('#lang-toggle').textContent = other === 'en' ? 'English' : '中文';
  $('#lang-toggle').dataset.lang = other;
  $('#status').textContent = t(`status_${$('#status').dataset.state}`);
  $('#add-person').elements.lang.value = lang === 'en' ? 'en' : 'zh-hans';
}

$('#lang-toggle').addEventListener('click', () => {
  lang = $('#lang-toggle').dataset.lang;
  localStorage.setItem('sandbox.lang', lang);
  drawStatic();
  drawChips();
  for (const pane of panes.values()) pane.labels();
});

$('#add-person').addEventListener('submit', (e) => {
  e.preventDefault();
  const form = e.target;
  const id = Number(form.elements.id.value);
  if (!Number.isSafeInteger(id) || id <= 0) {
    toast(t('invalid_id'));
    return;
  }
  const existing = people.find((p) => p.id === id);
  if (existing) setShown(id, true);
  else {
    people.push({
      id,
      name: form.elements.name.value.trim(),
      languageCode: form.elements.lang.value,
      shown: true,
    });
    savePeople();
    drawPanes();
  }
  form.reset();
  form.elements.lang.value = lang === 'en' ? 'en' : 'zh-hans';
});

function setStatus(state) {
  $('#status').dataset.state = state;
  $('#status').textContent = t(`status_${state}`);
}

function connect() {
  const events = new EventSource('/_emulator/events');
  events.addEventListener('open', () => {
    setStatus('open');
    for (const pane of panes.values()) void pane.refresh();
  });
  events.addEventListener('error', () => setStatus('lost'));
  events.addEventListener('chat', (e) => {
    const { chatId } = JSON.parse(e.data);
    void panes.get(chatId)?.refresh();
  });
  events.addEventListener('commands', () => {
    for (const pane of panes.values()) if (!pane.menu.hidden) void pane.refreshMenu();
  });
  events.addEventListener('reset', () => {
    for (const pane of panes.values()) void pane.refresh();
  });
}

drawStatic();
drawPanes();
connect();
document.body.dataset.ready = 'true';
