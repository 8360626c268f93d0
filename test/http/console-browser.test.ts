/**
 * The console in a real browser (Debian's Chromium driven by playwright-core), with
 * JavaScript switched off: what a person sees on each page, a hostile family name shown
 * as text (and never run), the CAS search form working without script, the way in (a
 * page saying how without the key, the login link's cookie with it). Screenshots go to
 * test-artifacts/console/. Skipped, with a message, where /usr/bin/chromium is absent.
 */
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOSTILE, removeInbox, startHttpScenario, type HttpScenario } from '../helpers/http.ts';
import { STORE_KINDS } from '../helpers/stores.ts';
import { REPO } from '../helpers/watch.ts';
import { waitFor } from '../helpers/wait.ts';

const CHROMIUM = process.env.CAS_BDT_TEST_CHROMIUM ?? '/usr/bin/chromium';
const ARTEFACTS = path.join(REPO, 'test-artifacts', 'console');
const present = existsSync(CHROMIUM);
if (!present) console.warn(`console browser test skipped: no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

describe.skipIf(!present)('the console in Chromium', () => {
  let s: HttpScenario;
  let browser: Browser;
  let page: Page;
  const dialogs: string[] = [];
  const shot = (name: string) => page.screenshot({ path: path.join(ARTEFACTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(ARTEFACTS, { recursive: true });
    s = await startHttpScenario(STORE_KINDS[0]!);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // No JavaScript: the console must be usable without it.
    const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await s?.close();
  });

  it('without the key a page says how to get in; the login link sets the cookie and opens the overview', async () => {
    const locked = await page.goto(s.server.url + '/');
    expect(locked?.status()).toBe(401);
    expect(await page.getByRole('heading', { name: 'The console needs its key' }).isVisible()).toBe(true);
    expect(await page.locator('body').innerText()).toContain('cas-bdt console');
    expect(await page.locator('body').innerText()).not.toContain(s.licence);
    await shot('sign-in');

    const opened = await page.goto(`${s.server.url}/login?key=${encodeURIComponent(s.token)}`);
    expect(opened?.status()).toBe(200);
    expect(new URL(page.url()).pathname).toBe('/');
    const [cookie] = await page.context().cookies();
    expect(cookie).toMatchObject({ name: 'cas-bdt-console', httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie!.value).not.toContain(s.token);
  });

  it('the overview shows the sponsor, its allocation, the chart and the recent files', async () => {
    await page.goto(s.server.url + '/');
    await expect(page.getByRole('heading', { name: 'Overview' }).isVisible()).resolves.toBe(true);
    const sponsors = page.getByRole('table').first();
    const row = sponsors.getByRole('row').filter({ hasText: s.licence });
    await expect(row.innerText()).resolves.toMatch(/10\s+2\s+8\s+20% used/);
    const chart = page.getByRole('img', { name: /Files processed and CAS assigned per hour/ });
    expect(await chart.isVisible()).toBe(true);
    expect(await page.getByText('2 files processed and 2 CAS assigned').count()).toBeGreaterThan(0);
    expect(await page.getByRole('link', { name: 'intake-good.xml' }).isVisible()).toBe(true);
    expect(await page.getByRole('link', { name: 'intake-bad.xml' }).isVisible()).toBe(true);
    await shot('overview');
  });

  it("a refused file shows its errors with line and column; an accepted one each record's issues and CAS numbers", async () => {
    await page.goto(s.server.url + '/');
    await page.getByRole('link', { name: 'intake-bad.xml' }).click();
    await page.waitForURL(/\/submissions\/\d+$/);
    const errRow = page.getByRole('row').filter({ hasText: 'E_SCHEMA' });
    const cells = await errRow.first().getByRole('cell').allInnerTexts();
    expect(cells[0]).toBe('E_SCHEMA');
    expect(Number(cells[1])).toBeGreaterThan(0);
    expect(Number(cells[2])).toBeGreaterThan(0);
    await shot('submission-rejected');

    await page.goto(s.server.url + '/');
    await page.getByRole('link', { name: 'intake-good.xml' }).click();
    await page.waitForURL(/\/submissions\/\d+$/);
    const refused = await page.getByRole('row').filter({ hasText: s.applicants.refused }).innerText();
    expect(refused).toContain('REJECTED');
    expect(refused).toContain('E_COURSE_DATES');
    const ok = await page.getByRole('row').filter({ hasText: s.applicants.ok }).innerText();
    expect(ok).toMatch(/ASSIGNED\s+E4G[A-Z0-9]{11}/);
    await shot('submission-accepted');
  });

  it('CAS search by ApplicantID works without script, shows the hostile name as text and leads to the timeline', async () => {
    await page.goto(s.server.url + '/cas');
    await page.getByLabel('CAS number or ApplicantID').fill(s.applicants.hostile);
    await page.getByRole('button', { name: 'Search' }).click();
    await page.waitForURL(/\/cas\?q=/);
    expect(await page.getByText('1 CAS found').isVisible()).toBe(true);
    // The name is on the page as text, and nothing ran.
    expect(await page.getByRole('cell', { name: new RegExp(HOSTILE.replace(/[()[\]\\.*+?^$|{}]/g, '\\$&')) }).count()).toBe(1);
    expect(await page.locator('main script').count()).toBe(0);
    await shot('cas-search');

    await page.getByRole('link', { name: /^E4G/ }).click();
    await page.waitForURL(/\/cas\/\d+$/);
    const items = await page.locator('ol.timeline li').allInnerTexts();
    expect(items.length).toBe(2);
    expect(items[0]).toMatch(/new → READY_TO_GO/);
    expect(items[1]).toMatch(/READY_TO_GO → ASSIGNED/);
    expect(await page.getByText(HOSTILE).count()).toBeGreaterThan(0);
    await shot('cas-timeline');
    expect(dialogs).toEqual([]);
  });

  it('/healthz in the browser turns 503 when an inbox is removed and 200 when it is back', async () => {
    const restore = removeInbox(s.root, s.licence);
    try {
      // An answer is reused for a second.
      await waitFor(async () => (await page.goto(s.server.url + '/healthz'))?.status() === 503, {
        what: '/healthz 503',
        timeoutMs: 10_000,
        intervalMs: 200,
      });
      expect(await page.locator('body').innerText()).toContain(`${s.licence}/inbox is missing`);
    } finally {
      restore();
    }
    await waitFor(async () => (await page.goto(s.server.url + '/healthz'))?.status() === 200, {
      what: '/healthz 200 again',
      timeoutMs: 10_000,
      intervalMs: 200,
    });
  });
});
