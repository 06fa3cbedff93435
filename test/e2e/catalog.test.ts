/**
 * The developer catalog in a real browser (headless Chromium through playwright-core): screenshots
 * of the index and an API page (test/.artifacts/catalog/, gitignored), a private API absent
 * without a key and present once the key is given in the index's form, the try-it panel streaming
 * "mock message" from the quickstart API as shipped, and a description carrying an XSS payload
 * that never runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { compileFolder } from '../../compiler/index.ts';
import type { Gateway } from '../../runtime/gateway.ts';
import { gatewayWith } from '../support/harness.ts';
import { newApiKey } from '../plans/fixtures.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ARTIFACTS = join(import.meta.dirname, '..', '.artifacts', 'catalog');
const XSS = '<script>window.__xss = 1</script><img src="x" onerror="window.__xss = 2; alert(2)"><svg onload="alert(3)"></svg>';

const dir = mkdtempSync(join(tmpdir(), 'sluice-catalog-e2e-'));
const key = newApiKey();
let gateway: Gateway;
let browser: Browser;

function writeApi(id: string, api: object, plans: Record<string, object>, subscriptions: Record<string, object> = {}): void {
  mkdirSync(join(dir, 'apis', id, 'plans'), { recursive: true });
  writeFileSync(join(dir, 'apis', id, 'api.json'), JSON.stringify(api, null, 2));
  for (const [name, plan] of Object.entries(plans)) writeFileSync(join(dir, 'apis', id, 'plans', `${name}.json`), JSON.stringify(plan));
  if (Object.keys(subscriptions).length) mkdirSync(join(dir, 'apis', id, 'subscriptions'));
  for (const [name, sub] of Object.entries(subscriptions)) writeFileSync(join(dir, 'apis', id, 'subscriptions', `${name}.json`), JSON.stringify(sub));
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  // The quickstart as shipped, a private API for partners, and one whose description is an attack.
  cpSync('apis/qs-message-api', join(dir, 'apis', 'qs-message-api'), { recursive: true });
  const base = { state: 'started', lifecycle: 'published', entrypoints: [{ type: 'sse' }, { type: 'http-get' }], endpoints: [{ type: 'mock', messageInterval: 100, messageContent: 'partner message' }] };
  writeApi('partners', { ...base, name: 'Partner feed', description: 'For partners with a key.', visibility: 'private', labels: ['partners'], contextPaths: ['/partners'] },
    { gold: { type: 'api-key', name: 'Gold', status: 'published' } }, { acme: { plan: 'gold', apiKeys: [{ hash: key.hash }] } });
  writeApi('hostile', { ...base, name: 'Hostile <i>name</i>', description: `Looks harmless ${XSS}`, visibility: 'public', labels: [XSS], contextPaths: ['/hostile'] },
    { open: { type: 'keyless', name: 'Open <b>plan</b>', status: 'published', description: XSS } });
  const { bundle, diagnostics } = await compileFolder(join(dir, 'apis'));
  expect(diagnostics).toEqual([]);
  gateway = await gatewayWith(bundle);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gateway?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A page that records dialogs and script errors (none must happen). */
async function open(path: string): Promise<{ page: Page; dialogs: string[]; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (dialog) => {
    dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${gateway.url}${path}`);
  return { page, dialogs, errors };
}

const cards = (page: Page) => page.locator('article.card.api h2').allTextContents();

describe('catalog in a browser', () => {
  it('lists the public APIs, and the private one only once its key is given in the form', async () => {
    const { page, errors } = await open('/catalog');
    try {
      expect(await cards(page)).toEqual(['Hostile <i>name</i>', 'Quickstart message API']);
      await page.screenshot({ path: join(ARTIFACTS, 'index.png'), fullPage: true });
      await page.fill('input[name=credential]', key.key);
      await Promise.all([page.waitForURL(/credential=/), page.click('form.credential button')]);
      expect(await cards(page)).toEqual(['Hostile <i>name</i>', 'Partner feed', 'Quickstart message API']);
      await page.screenshot({ path: join(ARTIFACTS, 'index-with-key.png'), fullPage: true });
      // the key follows the links: the private API's page opens
      await Promise.all([page.waitForURL(/\/catalog\/partners/), page.click('text=Partner feed')]);
      expect(await page.locator('h1').textContent()).toBe('Partner feed');
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 30_000);

  it('streams "mock message" from the quickstart into the try-it panel', async () => {
    const { page, errors } = await open('/catalog/qs-message-api');
    try {
      expect(await page.locator('#try-it').getAttribute('data-kind')).toBe('websocket');
      await page.click('#try-start');
      await page.locator('#try-messages li').nth(4).waitFor({ timeout: 15_000 });
      expect(await page.locator('#try-messages li').allTextContents()).toEqual(Array(5).fill('mock message'));
      expect(await page.locator('#try-status').textContent()).toBe('Received 5 messages; stream closed.');
      await page.screenshot({ path: join(ARTIFACTS, 'qs-message-api.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 30_000);

  it('streams a private API over EventSource with the key typed into the panel, and says why without it', async () => {
    const { page } = await open('/catalog/partners?credential=' + encodeURIComponent(key.key));
    try {
      expect(await page.locator('#try-credential').inputValue()).toBe(key.key);
      await page.click('#try-start');
      await page.locator('#try-messages li').nth(4).waitFor({ timeout: 15_000 });
      expect(await page.locator('#try-messages li').allTextContents()).toEqual(Array(5).fill('partner message'));
      await page.fill('#try-credential', 'not-a-key');
      await page.click('#try-start');
      await page.locator('#try-status', { hasText: 'refused with 401' }).waitFor({ timeout: 15_000 });
      expect(await page.locator('#try-messages li').count()).toBe(0);
    } finally {
      await page.close();
    }
  }, 30_000);

  it('works with JavaScript off: the index, the key form and the API pages (the try-it panel says it needs JavaScript)', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      await page.goto(`${gateway.url}/catalog`);
      await page.fill('input[name=credential]', key.key);
      await Promise.all([page.waitForURL(/credential=/), page.click('form.credential button')]);
      expect(await cards(page)).toEqual(['Hostile <i>name</i>', 'Partner feed', 'Quickstart message API']);
      await Promise.all([page.waitForURL(/\/catalog\/partners/), page.click('text=Partner feed')]);
      expect(await page.locator('section.example h3').allTextContents()).toEqual(['Server-Sent Events', 'HTTP GET (long poll)']);
      expect(await page.locator('#try-it noscript').count()).toBe(1);
    } finally {
      await context.close();
    }
  }, 30_000);

  it('shows an XSS payload from a definition as text: no script runs, no dialog opens', async () => {
    for (const path of ['/catalog', '/catalog/hostile']) {
      const { page, dialogs, errors } = await open(path);
      try {
        expect(await page.locator('p.description').first().textContent()).toBe(`Looks harmless ${XSS}`);
        expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
        expect(await page.locator('main img, main svg, main script').count()).toBe(0);
        if (path !== '/catalog') await page.screenshot({ path: join(ARTIFACTS, 'hostile.png'), fullPage: true });
        expect(dialogs).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await page.close();
      }
    }
  }, 30_000);
});
