// A paged listing in a real browser (Debian's Chromium, headless) on a
// phone, with JavaScript off: nothing overflows sideways, "Next" and the
// page form lead to the right pages. Screenshots go to tests/artifacts/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { ROOT, type RunningServer, startServer } from '../helpers/server';
import { tempDir } from './support';
import { watchProblems } from '../helpers/chromium-page';

const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
const FILES = 2500;
let server: RunningServer;
let browser: Browser;
let dir: string;
let base: string;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  dir = tempDir('listing-browser');
  fs.mkdirSync(path.join(dir, 'many'));
  fs.mkdirSync(path.join(dir, 'tree', 'sub folder'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'tree', 'sub folder', 'needle-inside.txt'), 'found');
  for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(dir, 'many', `report-${i}.txt`), '');
  server = await startServer(['--directory', dir]);
  base = `http://127.0.0.1:${server.port}`;
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('on a phone without JavaScript, a paged listing fits the width and its Next link and page form work', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 720 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, javaScriptEnabled: false });
  const page = await context.newPage();
  await page.goto(`${base}/files/many/`);
  expect(await page.title()).toBe('Index of /files/many/');
  const firstRow = () => page.locator('tbody tr.file td.name a').first().textContent();
  expect(await firstRow()).toBe('report-0.txt');
  expect(await page.locator('tbody tr:not(.parent)').count()).toBe(1000);
  expect(await page.locator('footer').textContent()).toBe('0 folders, 2,500 files; entries 1–1,000 shown');
  await page.screenshot({ path: path.join(ARTIFACTS, 'listing-pages-phone.png') });
  await page.locator('nav.pages').first().locator('a[rel="next"]').click();
  await page.waitForURL(`${base}/files/many/?page=2`);
  expect(await firstRow()).toBe('report-1000.txt');
  await page.locator('nav.pages').first().locator('input[name="page"]').fill('3');
  await page.locator('nav.pages').first().locator('button').click();
  await page.waitForURL(`${base}/files/many/?page=3`);
  expect(await firstRow()).toBe('report-2000.txt');
  expect(await page.locator('tbody tr:not(.parent)').count()).toBe(500);
  await context.close();

  // Layout: measured with scripts allowed (the file manager script runs).
  const measuring = await browser.newContext({ viewport: { width: 375, height: 720 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const p2 = await measuring.newPage();
  await p2.goto(`${base}/files/many/?page=2`);
  expect(await p2.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
  await measuring.close();
}, 60_000);

test('with JavaScript, in dark mode on a phone: the script runs under the CSP, sort links, search and the QR code work, nothing overflows', async () => {
  const context = await browser.newContext({ viewport: { width: 375, height: 720 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme: 'dark' });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${base}/files/many/`);
  // The file manager script ran (its filter box is there) and the CSP blocked nothing.
  await page.locator('label.filter').waitFor();
  expect(await page.evaluate('getComputedStyle(document.body).backgroundColor')).toBe('rgb(22, 25, 29)');
  // Sort by size, then flip the order, through the column header links.
  await page.locator('th.size a').click();
  await page.waitForURL(`${base}/files/many/?sort=size&order=asc`);
  await page.locator('th.size a').click();
  await page.waitForURL(`${base}/files/many/?sort=size&order=desc`);
  expect(await page.locator('th.size').getAttribute('aria-sort')).toBe('descending');
  // The QR code opens and is big enough to scan (a machine without a LAN address offers none).
  const hasLan = Object.values(os.networkInterfaces()).some((l) => l?.some((i) => i.family === 'IPv4' && !i.internal));
  if (hasLan) {
    // With the script, the QR code opens in a dialog from the toolbar (without it, from its <details>).
    await page.getByRole('button', { name: 'QR code' }).click();
    const img = page.locator('dialog img');
    await img.waitFor();
    const deadline = Date.now() + 10_000;
    while (!(await img.evaluate((i) => (i as unknown as { complete: boolean; naturalWidth: number }).complete && (i as unknown as { naturalWidth: number }).naturalWidth > 0)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const box = await img.boundingBox();
    expect(box!.width).toBeGreaterThan(150);
    await page.keyboard.press('Escape');
  } else expect(await page.locator('details.qr').count()).toBe(0);
  expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
  await page.screenshot({ path: path.join(ARTIFACTS, 'listing-dark-phone.png'), fullPage: false });
  // Search below a folder: the match links to the file.
  await page.goto(`${base}/files/tree/`);
  await page.locator('form.search input[name="q"]').fill('NEEDLE');
  await page.locator('form.search button').click();
  await page.waitForURL(`${base}/files/tree/?q=NEEDLE`);
  await page.locator('td.name a').first().click();
  await page.waitForURL(`${base}/files/tree/sub%20folder/needle-inside.txt`);
  expect(await page.locator('body').textContent()).toBe('found');
  expect(problems).toEqual([]);
  await context.close();
}, 60_000);
