import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { I18n } from '../../src/adapters/i18n.ts';
import { sandboxWebOptions } from '../../src/cli/sandbox-web.ts';
import {
  DEMO_CAMPAIGN_CODE,
  DEMO_PEOPLE,
  DEMO_RECIPIENT,
  demoCampaignText,
  seedDemo,
} from '../../src/cli/seed-demo.ts';
import { DEFAULT_LIMITS } from '../../src/emulator/rate-limit.ts';
import { startTestEmulator } from '../support/conversation.ts';
import { makeId } from '../support/fixtures.ts';
import { type Harness, startHarness } from '../support/harness.ts';

// The sandbox's web page (src/emulator/web) in a real Chromium, over the real bot: the demo's people
// side by side as `npm start` + `npm run seed:demo` show them. The contact nominates through the page
// (command menu, inline buttons, typed answers), the reviewer approves in another pane, the contact's
// pane shows the decision live, and the admin's /report shows the chart as an image and the draft as a
// download. A screenshot is kept in test/artifacts/. The emulator enforces Telegram's limits.
//
// Chromium: Debian's package (/usr/bin/chromium; CHROMIUM_PATH overrides), installed by .ci/run.
// In CI a missing Chromium fails the test; locally (CI unset) the test is skipped with the reason.

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
const IN_CI = Boolean(process.env['CI']);
const MISSING = `Chromium not found at ${CHROMIUM}. The browser tests need Debian's chromium: .ci/run installs it with apt (apt-get install -y chromium); set CHROMIUM_PATH if it lives elsewhere.`;
if (!HAVE_CHROMIUM && !IN_CI)
  console.warn(`skipping test/browser/sandbox-web.test.ts (CI unset): ${MISSING}`);

// Chromium's own network chatter is refused on a closed network; these keep it quiet and fast.
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTIFACTS = new URL('../artifacts/', import.meta.url);

const [ADMIN, REVIEWER, , CONTACT] = DEMO_PEOPLE.map((p) => Number(p.telegramId)) as [
  number,
  number,
  number,
  number,
];
const i18n = new I18n('zh-CN');
/** A locale text as a pattern: its fixed parts in order, anything where a parameter stands. */
const like = (key: string) =>
  new RegExp(
    i18n
      .t('zh-CN', key, {})
      .split(/\{[a-z]+\}/i)
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('[\\s\\S]*?'),
  );

let h: Harness;
let context: BrowserContext;
let page: Page;
let userDataDir = '';

interface Shown {
  id: number;
  from: 'bot' | 'user';
  text: string;
  buttons: { text: string; data: string }[];
}

/** The little of the DOM the page-side callbacks use (the project's TypeScript has no DOM library). */
interface PageElement {
  dataset: Record<string, string | undefined>;
  textContent: string | null;
  classList: { contains(name: string): boolean };
  querySelector(selector: string): PageElement | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
}

const pane = (id: number): Locator => page.locator(`section.pane[data-user-id="${id}"]`);

/** What a pane shows, message by message (as the page drew it). */
function shown(id: number): Promise<Shown[]> {
  return pane(id)
    .locator('.msg')
    .evaluateAll((els) =>
      (els as unknown as PageElement[]).map((e) => ({
        id: Number(e.dataset['messageId']),
        from: e.classList.contains('bot') ? ('bot' as const) : ('user' as const),
        text: e.querySelector('.text')?.textContent ?? '',
        buttons: [...e.querySelectorAll('.inline button')].map((b) => ({
          text: b.textContent ?? '',
          data: b.dataset['callback'] ?? '',
        })),
      })),
    );
}

const lastId = async (id: number) => Math.max(0, ...(await shown(id)).map((m) => m.id));

/** Waits until the pane shows a bot message after `after` that `accept`s. */
async function waitShown(
  id: number,
  accept: (m: Shown) => boolean,
  after = 0,
  timeoutMs = 30_000,
): Promise<Shown> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const hit = (await shown(id)).find((m) => m.from === 'bot' && m.id > after && accept(m));
    if (hit) return hit;
    if (Date.now() > until) {
      const dump = (await shown(id)).map(
        (m) => `  ${m.from} #${m.id}: ${m.text} [${m.buttons.map((b) => b.text).join('] [')}]`,
      );
      throw new Error(
        `pane ${id}: nothing matching after #${after} in ${timeoutMs} ms; it shows:\n${dump.join('\n')}`,
      );
    }
    await page.waitForTimeout(100);
  }
}

async function type(id: number, text: string): Promise<void> {
  await pane(id).locator('input[name="text"]').fill(text);
  await pane(id).locator('button.send').click();
}

async function press(id: number, messageId: number, dataPrefix: string, label?: RegExp): Promise<void> {
  const buttons = pane(id).locator(
    `.msg.bot[data-message-id="${messageId}"] .inline button[data-callback^="${dataPrefix}"]`,
  );
  await (label ? buttons.filter({ hasText: label }) : buttons).first().click();
}

const hasButton = (m: Shown, prefix: string) => m.buttons.some((b) => b.data.startsWith(`${prefix}|`));

describe.skipIf(!HAVE_CHROMIUM && !IN_CI)('the sandbox web page in Chromium', () => {
  beforeAll(async () => {
    if (!HAVE_CHROMIUM) throw new Error(MISSING);
    const emulator = await startTestEmulator({
      limits: DEFAULT_LIMITS,
      timeoutMs: 60_000,
      web: sandboxWebOptions(),
    });
    h = await startHarness({ emulator });
    await seedDemo(h.app.db);
    userDataDir = mkdtempSync(join(tmpdir(), 'warmth-chromium-'));
    // A fresh profile directory (Playwright passes it as --user-data-dir).
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: FLAGS,
      viewport: { width: 1840, height: 1000 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${emulator.url}/`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('#status[data-state="open"]').waitFor();
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
    await h?.stop();
  });

  it('shows the demo people side by side, in Chinese and in English', async () => {
    const ids = await page
      .locator('section.pane')
      .evaluateAll((els) => (els as unknown as PageElement[]).map((e) => Number(e.dataset['userId'])));
    expect(ids).toEqual([...DEMO_PEOPLE.map((p) => Number(p.telegramId)), Number(DEMO_RECIPIENT.telegramId)]);
    await expect.poll(() => page.locator('h1').textContent()).toBe('送温暖机器人 · 沙盒');
    await expect.poll(() => pane(CONTACT).locator('.who small').textContent()).toContain('基层工会联系人');
    await page.locator('#lang-toggle').click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('Send Warmth bot · sandbox');
    await expect
      .poll(() => pane(CONTACT).locator('.who small').textContent())
      .toContain('Grassroots union contact');
    await expect.poll(() => pane(CONTACT).locator('button.send').textContent()).toBe('Send');
    await page.locator('#lang-toggle').click();
    await expect.poll(() => page.locator('h1').textContent()).toBe('送温暖机器人 · 沙盒');
  });

  it('bot text is shown as text: HTML formatting drawn, no markup injected', async () => {
    const res = await fetch(`${h.emu.apiRoot}/bot${h.env['TELEGRAM_BOT_TOKEN']}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        chat_id: Number(DEMO_RECIPIENT.telegramId),
        parse_mode: 'HTML',
        text: '<b>加粗</b> &lt;img src=x onerror="document.body.dataset.pwned=1"&gt; <a href="javascript:alert(1)">链接</a>',
      }),
    });
    expect(res.status).toBe(200);
    const recipient = pane(Number(DEMO_RECIPIENT.telegramId));
    await recipient.locator('.msg.bot b').filter({ hasText: '加粗' }).waitFor();
    expect(await recipient.locator('.msg.bot .text').last().textContent()).toContain(
      '<img src=x onerror="document.body.dataset.pwned=1">',
    );
    expect(await recipient.locator('.msg.bot img').count()).toBe(0);
    expect(await recipient.locator('.msg.bot a[href^="javascript"]').count()).toBe(0);
    expect(
      await page.evaluate(
        () => (globalThis as unknown as { document: { body: PageElement } }).document.body.dataset['pwned'],
      ),
    ).toBeUndefined();
  });

  it('a contact nominates in the page, a reviewer approves in another pane, the admin sees the chart', async () => {
    const campaign = await h.app.db.campaign.findUniqueOrThrow({ where: { code: DEMO_CAMPAIGN_CODE } });
    const category = await h.app.db.campaignCategory.findFirstOrThrow({
      where: { campaignId: campaign.id, code: 'frontline_worker' },
    });

    // The contact starts, then picks /nominate from the command menu the bot set for them.
    await type(CONTACT, '/start');
    await waitShown(CONTACT, () => true);
    await pane(CONTACT).locator('button.menu-button').click();
    await pane(CONTACT).locator('.menu button[data-command="nominate"]').click();

    const answers: [string, string][] = [
      ['nominate.ask_name', '刘师傅'],
      ['nominate.ask_id_number', makeId('19700101', 901, '530124')],
      ['nominate.ask_phone', '13900009901'],
      ['nominate.ask_employer', '富民县环卫站'],
      ['nominate.ask_description', '春节坚守岗位的一线环卫职工。'],
    ];
    let cursor = 0;
    let nominationId = 0;
    for (let step = 0; step < 30 && !nominationId; step++) {
      const m = await waitShown(CONTACT, () => true, cursor);
      cursor = m.id;
      if (hasButton(m, 'nm_cat')) await press(CONTACT, m.id, 'nm_cat|', new RegExp(`^${category.nameZh}`));
      else if (hasButton(m, 'nm_submit')) {
        expect(m.text).not.toContain(makeId('19700101', 901, '530124'));
        await press(CONTACT, m.id, 'nm_submit|');
        const done = await waitShown(CONTACT, (x) => like('nominate.submitted').test(x.text), cursor);
        nominationId = Number(/(\d+)/.exec(done.text)![1]);
      } else if (hasButton(m, 'nm_idok')) await press(CONTACT, m.id, 'nm_idok|');
      else if (hasButton(m, 'nm_form')) await press(CONTACT, m.id, 'nm_form|in_kind|');
      else if (hasButton(m, 'nm_scdone')) await press(CONTACT, m.id, 'nm_scdone|');
      else if (hasButton(m, 'nm_v')) await press(CONTACT, m.id, 'nm_v|');
      else {
        const answer = answers.find(([key]) => like(key).test(m.text));
        if (answer) {
          await type(CONTACT, answer[1]);
          cursor = await lastId(CONTACT);
        }
      }
    }
    expect(nominationId).toBeGreaterThan(0);
    expect(await h.app.db.nomination.findUniqueOrThrow({ where: { id: nominationId } })).toMatchObject({
      status: 'submitted',
      fullName: '刘师傅',
    });

    // The reviewer, in the next pane, opens the card and approves it.
    const before = await lastId(REVIEWER);
    await type(REVIEWER, '/review');
    const card = await waitShown(
      REVIEWER,
      (m) => m.text.includes(`申报 #${nominationId}（第 1 版）`),
      before,
    );
    expect(card.text).toContain('139****9901');
    expect(card.text).not.toContain('13900009901');
    await press(REVIEWER, card.id, 'rv_ok|');
    await waitShown(REVIEWER, (m) => m.id === card.id && m.text.includes(`申报 #${nominationId} 已审核通过`));
    expect((await h.app.db.nomination.findUniqueOrThrow({ where: { id: nominationId } })).status).toBe(
      'approved',
    );
    // The contact's pane shows the decision without a reload (server-sent events).
    await waitShown(CONTACT, (m) => m.text.includes(`#${nominationId}（刘师傅）已审核通过`), cursor);

    // The admin's /report: the chart is an image the browser decoded; the draft is a download.
    await type(ADMIN, `/report ${DEMO_CAMPAIGN_CODE}`);
    const chart = pane(ADMIN).locator('.msg.bot img.photo').first();
    await chart.waitFor({ timeout: 60_000 });
    await expect
      .poll(
        () =>
          chart.evaluate((el) => {
            const img = el as unknown as { complete: boolean; naturalWidth: number };
            return img.complete ? img.naturalWidth : 0;
          }),
        {
          timeout: 30_000,
        },
      )
      .toBe(1600);
    const draft = pane(ADMIN).locator('.msg.bot .doc a[download$=".docx"]').first();
    await draft.waitFor({ timeout: 60_000 });
    const href = await draft.getAttribute('href');
    const file = await page.request.get(`${h.emu.url}${href}`);
    expect(file.status()).toBe(200);
    expect(file.headers()['content-disposition']).toMatch(/attachment; filename=.*\.docx/);
    expect((await file.body()).subarray(0, 2).toString()).toBe('PK');

    await chart.scrollIntoViewIfNeeded();
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: new URL('sandbox-web.png', ARTIFACTS).pathname });
  });

  it('a person added in the page opens the invite link from the admin chat and joins', async () => {
    await page.locator('#add-person input[name="id"]').fill('1006');
    await page.locator('#add-person input[name="name"]').fill('陈联系');
    await page.locator('#add-person button[type="submit"]').click();
    await pane(1006).waitFor();
    const union = await h.app.db.union.findFirstOrThrow({ where: { name: '县人民医院工会（演示）' } });
    const before = await lastId(ADMIN);
    await type(ADMIN, `/invite ${union.id} 1`);
    const invite = await waitShown(ADMIN, (m) => /start=inv_/.test(m.text), before);
    // The link is a link; opening it asks as whom, and that person's chat starts with its payload.
    await pane(ADMIN).locator(`.msg.bot[data-message-id="${invite.id}"] a[href*="start=inv_"]`).click();
    await page.locator('#open-as .choices button[data-user-id="1006"]').click();
    const payload = /start=(inv_[A-Za-z0-9_-]+)/.exec(invite.text)![1]!;
    await pane(1006)
      .locator('.msg.user .text', { hasText: `/start ${payload}` })
      .waitFor();
    const offer = await waitShown(1006, (m) => hasButton(m, 'inv_ok'));
    await press(1006, offer.id, 'inv_ok|');
    await expect
      .poll(
        () =>
          h.app.db.roleGrant.count({
            where: { person: { telegramId: 1006n }, role: 'contact', unionId: union.id, revokedAt: null },
          }),
        { timeout: 30_000 },
      )
      .toBe(1);
    expect(await h.app.db.person.findUniqueOrThrow({ where: { telegramId: 1006n } })).toMatchObject({
      displayName: expect.stringContaining('陈联系'),
    });
  });

  it('a reply keyboard sends its label as the person', async () => {
    const recipient = Number(DEMO_RECIPIENT.telegramId);
    await fetch(`${h.emu.apiRoot}/bot${h.env['TELEGRAM_BOT_TOKEN']}/sendMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        chat_id: recipient,
        text: '请选择',
        reply_markup: { keyboard: [['已收到', '未收到']], resize_keyboard: true },
      }),
    });
    await pane(recipient).locator('.keyboard button', { hasText: '已收到' }).click();
    await pane(recipient).locator('.msg.user .text', { hasText: '已收到' }).waitFor();
  });

  it('uploads a file from the page as the person: the admin sends a campaign file', async () => {
    const example = readFileSync(
      new URL('../../campaigns/example-2024-spring.yaml', import.meta.url),
      'utf8',
    );
    const text = demoCampaignText(example, new Date()).replace(
      `code: ${DEMO_CAMPAIGN_CODE}`,
      'code: fumin-web',
    );
    const before = await lastId(ADMIN);
    await pane(ADMIN)
      .locator('input[type="file"]')
      .setInputFiles({ name: 'fumin-web.yaml', mimeType: 'application/x-yaml', buffer: Buffer.from(text) });
    // The upload shows as the admin's own message with its file name, and the bot loads the campaign.
    await pane(ADMIN).locator('.msg.user .doc a', { hasText: 'fumin-web.yaml' }).waitFor();
    await waitShown(ADMIN, (m) => m.text.includes('已导入新活动') && m.text.includes('fumin-web'), before);
    expect(await h.app.db.campaign.count({ where: { code: 'fumin-web' } })).toBe(1);
  });
});
