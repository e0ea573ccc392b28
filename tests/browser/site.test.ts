// A real browser against the real server: Debian's Chromium, headless,
// driven by playwright-core. It opens the fixture site served by --root
// (HTML + CSS + PNG, the CSS arriving gzip-coded), then directory listings,
// follows their links, and saves screenshots under tests/artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { ROOT, type RunningServer, startServer } from '../helpers/server';
import { tempDir, writeTree } from '../files/support';

const SITE = path.join(ROOT, 'tests', 'fixtures', 'site');
const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
const AWKWARD = '<img src=x onerror=alert(1)> & "quotes".txt';
let server: RunningServer;
let browser: Browser;
let files: string;
let base: string;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  files = tempDir('browser');
  writeTree(files, {
    [AWKWARD]: 'awkward content',
    'reports/2024/summary.txt': 'summary of 2024',
    'reports/2024/q1.csv': 'a,b\n1,2\n',
    'a rather long file name that has to wrap on a narrow phone screen without breaking the layout.txt': 'long',
    'photo.png': fs.readFileSync(path.join(SITE, 'img', 'logo.png')),
    'notes.md': '# notes\n',
  });
  server = await startServer(['--root', SITE, '--directory', files]);
  base = `http://127.0.0.1:${server.port}`;
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  fs.rmSync(files, { recursive: true, force: true });
});

test('the site renders: image decoded, stylesheet applied (sent gzip-coded)', async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
  const codings = new Map<string, string | undefined>();
  page.on('response', (r) => codings.set(new URL(r.url()).pathname, r.headers()['content-encoding']));
  const res = await page.goto(`${base}/`);
  expect(res?.status()).toBe(200);
  await page.waitForLoadState('load');
  expect(await page.title()).toBe('Fixture site');
  // Page-side expressions as strings: the tests compile without the DOM library.
  expect(await page.evaluate("document.getElementById('logo').naturalWidth")).toBe(160);
  expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(16, 42, 67)');
  expect(await page.evaluate("getComputedStyle(document.getElementById('title')).color")).toBe('rgb(255, 184, 40)');
  expect(codings.get('/style.css')).toBe('gzip'); // Chromium accepts gzip, br, ...: ties go to gzip
  expect(codings.get('/img/logo.png')).toBeUndefined(); // already compressed: sent as is
  await page.screenshot({ path: path.join(ARTIFACTS, 'site.png'), fullPage: true });
  await page.close();
});

test('from the site, the docs link leads to a listing whose links work', async () => {
  const page = await browser.newPage({ viewport: { width: 1024, height: 700 } });
  await page.goto(`${base}/`);
  await page.click('#docs-link');
  await page.waitForURL(`${base}/docs/`);
  expect(await page.title()).toBe('Index of /docs/');
  const names = await page.$$eval('td.name a', (as) => as.map((a) => a.textContent));
  expect(names[0]).toContain('../');
  expect(names.slice(1)).toEqual(['guides/', 'data.bin', 'notes & ideas.md', 'readme.txt']);
  await page.click('text=guides/');
  await page.waitForURL(`${base}/docs/guides/`);
  expect(await page.$$eval('td.name a', (as) => as.map((a) => a.textContent))).toEqual(['../ (parent folder)', 'guide-2.txt', 'guide-10.txt']);
  await page.screenshot({ path: path.join(ARTIFACTS, 'listing-desktop.png'), fullPage: true });
  await page.click('text=guide-10.txt');
  await page.waitForURL(`${base}/docs/guides/guide-10.txt`);
  expect((await page.textContent('body'))?.trim()).toBe('Guide number 10');
  await page.goBack();
  await page.click('text=../');
  await page.waitForURL(`${base}/docs/`);
  await page.close();
});

test('a /files/ listing on a phone: escaped names run no script, nothing overflows sideways, links work', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 720 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const page = await context.newPage();
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    void d.dismiss();
  });
  await page.goto(`${base}/files/`);
  expect(await page.title()).toBe('Index of /files/');
  expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
  const link = page.locator('td.name a', { hasText: 'onerror' });
  expect(await link.textContent()).toBe(AWKWARD);
  expect(await page.locator('td.name img').count()).toBe(0); // the name is text, not markup
  await page.screenshot({ path: path.join(ARTIFACTS, 'listing-phone.png'), fullPage: true });
  await link.click();
  await page.waitForLoadState('load');
  expect(await page.textContent('body')).toBe('awkward content');
  await page.goBack();
  await page.click('text=reports/');
  await page.click('text=2024/');
  await page.waitForURL(`${base}/files/reports/2024/`);
  await page.click('text=summary.txt');
  expect(await page.textContent('body')).toBe('summary of 2024');
  expect(dialogs).toBe(0);
  await context.close();
});
