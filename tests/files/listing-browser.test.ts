// A paged listing in a real browser (Debian's Chromium, headless) on a
// phone, with JavaScript off: nothing overflows sideways, "Next" and the
// page form lead to the right pages. Screenshots go to tests/artifacts/.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { ROOT, type RunningServer, startServer } from '../helpers/server';
import { tempDir } from './support';

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
  const firstRow = () => page.locator('tbody tr:not(.parent) td.name a').first().textContent();
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

  // Layout: measured with scripts allowed (the page itself runs none).
  const measuring = await browser.newContext({ viewport: { width: 375, height: 720 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
  const p2 = await measuring.newPage();
  await p2.goto(`${base}/files/many/?page=2`);
  expect(await p2.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
  await measuring.close();
}, 60_000);
