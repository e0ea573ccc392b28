// The file manager page, the rest of it: new folder, rename and move,
// delete (files, empty and non-empty folders), filter, sort and search,
// the QR code dialog, keyboard use, phone width and dark mode, and a
// read-only listing left without script. Real server, real Chromium;
// every change is checked on disk; the page reports no console error
// (beyond the refusals a test provokes), no CSP violation, no exception.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContextOptions, Page } from 'playwright-core';
import { launchChromium, until, watchProblems } from '../helpers/chromium-page';
import { ROOT, type RunningServer, startServer } from '../helpers/server';
import { tempDir, writeTree } from '../files/support';

const ARTIFACTS = path.join(ROOT, 'tests', 'artifacts');
let server: RunningServer;
let browser: Browser;
let dir: string;
let site: string;
let base: string;

beforeAll(async () => {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  dir = tempDir('fm-folders');
  site = tempDir('fm-site');
  writeTree(dir, {
    'Old name.txt': 'old name\n',
    'report-1.txt': 'r1',
    'report-2.txt': 'report two, longer\n',
    'report-10.txt': 'report ten, the longest of the three\n',
    'docs/readme.txt': 'read me\n',
    'docs/deep/report-deep.txt': 'deep down\n',
    'docs/deep/DEEPER.md': '# deeper\n',
  });
  fs.mkdirSync(path.join(dir, 'empty-folder'));
  writeTree(site, { 'public.txt': 'public\n' });
  server = await startServer(['--root', site, '--directory', dir]);
  base = `http://127.0.0.1:${server.port}`;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(site, { recursive: true, force: true });
});

/** Opens a listing under /files/ and waits for the script's toolbar. */
async function open(query = '', options: BrowserContextOptions = {}): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 }, ...options });
  const page = await context.newPage();
  const problems = watchProblems(page);
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  const res = await page.goto(`${base}/files/${query}`);
  expect(res?.status()).toBe(200);
  await page.getByRole('button', { name: 'New folder' }).waitFor();
  return { page, problems };
}

const row = (page: Page, label: string) => page.locator('tbody tr').filter({ has: page.getByRole('link', { name: label, exact: true }) });
const dialog = (page: Page) => page.locator('dialog[open]');
const exists = (rel: string) => fs.existsSync(path.join(dir, rel));
const isFolder = (rel: string) => fs.statSync(path.join(dir, rel)).isDirectory();
const focused = (page: Page) => page.evaluate("document.activeElement.closest('dialog') ? 'dialog ' + document.activeElement.tagName : document.activeElement.textContent");
const status = (page: Page) => page.locator('.fm-status').textContent();
/** Names of the rows shown, in order, folders with their `/`. */
const shown = (page: Page) => page.locator('tbody tr:not(.parent):visible td.name a').allTextContents();

test('by keyboard alone: create a folder, rename it, move a file into it, delete it with everything in it', async () => {
  const { page, problems } = await open();

  // New folder: Enter on the button, type, Enter; focus comes back to the button.
  await page.getByRole('button', { name: 'New folder' }).focus();
  await page.keyboard.press('Enter');
  await dialog(page).waitFor();
  expect(await focused(page)).toBe('dialog INPUT');
  await page.keyboard.type('Projects 2024');
  await page.keyboard.press('Enter');
  await dialog(page).waitFor({ state: 'detached' });
  await row(page, 'Projects 2024/').waitFor();
  expect(isFolder('Projects 2024')).toBe(true);
  expect(await focused(page)).toBe('New folder');
  expect(await row(page, 'Projects 2024/').getAttribute('data-type')).toBe('directory');

  // The same name again: refused (405), said, nothing changes.
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.keyboard.type('Projects 2024');
  await page.keyboard.press('Enter');
  await until(page, "document.querySelector('.fm-status').classList.contains('fm-error')");
  expect(await status(page)).toContain('Could not create “Projects 2024”: something by that name exists');

  // Rename the folder: its row's Rename button, by keyboard.
  await page.getByRole('button', { name: 'Rename or move Projects 2024' }).focus();
  await page.keyboard.press('Enter');
  await dialog(page).waitFor();
  expect(await dialog(page).locator('input').inputValue()).toBe('Projects 2024');
  await page.keyboard.press('Control+A');
  await page.keyboard.type('Archive 2024');
  await page.keyboard.press('Enter');
  await row(page, 'Archive 2024/').waitFor();
  expect(isFolder('Archive 2024')).toBe(true);
  expect(exists('Projects 2024')).toBe(false);
  expect(await row(page, 'Projects 2024/').count()).toBe(0);

  // Move a file into it with a relative path.
  await page.getByRole('button', { name: 'Rename or move Old name.txt' }).click();
  await dialog(page).locator('input').fill('Archive 2024/New name.txt');
  await page.keyboard.press('Enter');
  await row(page, 'Old name.txt').waitFor({ state: 'detached' });
  expect(fs.readFileSync(path.join(dir, 'Archive 2024', 'New name.txt'), 'utf8')).toBe('old name\n');
  expect(exists('Old name.txt')).toBe(false);

  // A rename onto an existing name is refused (Overwrite: F → 412): both files stay.
  await page.getByRole('button', { name: 'Rename or move report-1.txt' }).click();
  await dialog(page).locator('input').fill('report-2.txt');
  await page.keyboard.press('Enter');
  await until(page, "document.querySelector('.fm-status').textContent.includes('report-1.txt')");
  expect(await status(page)).toContain('Could not move “report-1.txt”: “report-2.txt” already exists (not replaced)');
  expect(fs.readFileSync(path.join(dir, 'report-1.txt'), 'utf8')).toBe('r1');
  expect(fs.readFileSync(path.join(dir, 'report-2.txt'), 'utf8')).toBe('report two, longer\n');

  // Delete the non-empty folder: the confirmation says what goes; Escape keeps it.
  await page.getByRole('button', { name: 'Delete Archive 2024' }).focus();
  await page.keyboard.press('Enter');
  await dialog(page).waitFor();
  expect(await dialog(page).textContent()).toContain('Delete the folder “Archive 2024” and everything in it (1 item at its top level)?');
  expect(await focused(page)).toBe('dialog BUTTON');
  expect(await page.evaluate('document.activeElement.textContent')).toBe('Cancel');
  await page.keyboard.press('Enter'); // Cancel
  await dialog(page).waitFor({ state: 'detached' });
  expect(exists('Archive 2024/New name.txt')).toBe(true);
  await page.keyboard.press('Enter'); // focus is back on its Delete button
  await dialog(page).waitFor();
  await page.keyboard.press('Escape');
  await dialog(page).waitFor({ state: 'detached' });
  expect(exists('Archive 2024/New name.txt')).toBe(true);
  await page.keyboard.press('Enter'); // focus is back on its Delete button
  await dialog(page).waitFor();
  await dialog(page).getByRole('button', { name: 'Delete' }).click();
  await row(page, 'Archive 2024/').waitFor({ state: 'detached' });
  expect(exists('Archive 2024')).toBe(false);

  // An empty folder, and a file.
  await page.getByRole('button', { name: 'Delete empty-folder' }).click();
  expect(await dialog(page).textContent()).toContain('Delete the empty folder “empty-folder”?');
  await dialog(page).getByRole('button', { name: 'Delete' }).click();
  await row(page, 'empty-folder/').waitFor({ state: 'detached' });
  expect(exists('empty-folder')).toBe(false);
  await page.getByRole('button', { name: 'Delete report-10.txt' }).click();
  expect(await dialog(page).textContent()).toContain('Delete the file “report-10.txt”?');
  await dialog(page).getByRole('button', { name: 'Delete' }).click();
  await row(page, 'report-10.txt').waitFor({ state: 'detached' });
  expect(exists('report-10.txt')).toBe(false);

  // The listing the server sends now is the one the page shows.
  const shownNow = await shown(page);
  await page.reload();
  await page.getByRole('button', { name: 'New folder' }).waitFor();
  expect(await shown(page)).toEqual(shownNow);
  // Chromium logs each refused request: the 405 and the 412 provoked above, nothing else.
  expect(problems).toHaveLength(2);
  expect(problems[0]).toMatch(/status of 405/);
  expect(problems[1]).toMatch(/status of 412/);
  await page.context().close();
}, 60_000);

test('filter the rows, sort by size (a new upload lands in its place), search all subfolders', async () => {
  // A folder whose URL path is percent-encoded: uploads go to the right place.
  writeTree(dir, { 'sorted by size/a-small.txt': '1', 'sorted by size/b-large.txt': '1'.repeat(5000), 'sorted by size/c-medium.txt': '1'.repeat(300) });
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(`${base}/files/sorted%20by%20size/?sort=size&order=desc`);
  expect(await shown(page)).toEqual(['b-large.txt', 'c-medium.txt', 'a-small.txt']);
  await page.locator('#file-manager input[type="file"]:not([webkitdirectory])').setInputFiles({ name: 'd-mid.txt', mimeType: 'text/plain', buffer: Buffer.from('1'.repeat(1000)) });
  await row(page, 'd-mid.txt').waitFor();
  expect(await shown(page)).toEqual(['b-large.txt', 'd-mid.txt', 'c-medium.txt', 'a-small.txt']);
  expect(fs.readFileSync(path.join(dir, 'sorted by size', 'd-mid.txt'), 'utf8')).toBe('1'.repeat(1000));

  // Filter: only the rows whose name contains the text; cleared, all again.
  await page.locator('label.filter input').fill('MEDIUM');
  expect(await shown(page)).toEqual(['c-medium.txt']);
  await page.locator('label.filter input').fill('');
  expect(await shown(page)).toHaveLength(4);

  // Search from the top (the listing's own form): every name below that contains the term.
  await page.goto(`${base}/files/`);
  await page.getByRole('searchbox', { name: 'Search names' }).fill('deep');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\?q=deep$/);
  const results = page.locator('tbody');
  const expected: string[] = [];
  const walk = (rel: string): void => {
    for (const e of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel + e.name;
      if (e.name.toLowerCase().includes('deep')) expected.push(r + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(`${r}/`);
    }
  };
  walk('');
  expect(expected.sort()).toEqual(['docs/deep/', 'docs/deep/DEEPER.md', 'docs/deep/report-deep.txt']);
  expect((await results.locator('td.name a').allTextContents()).sort()).toEqual(expected);
  await results.getByRole('link', { name: 'docs/deep/report-deep.txt' }).click();
  await page.waitForURL(`${base}/files/docs/deep/report-deep.txt`);
  expect(await page.textContent('body')).toBe('deep down\n');
  expect(problems).toEqual([]);
  await context.close();
}, 60_000);

test('the QR code opens in a dialog from the toolbar; Escape closes it', async () => {
  const { page, problems } = await open();
  const details = page.locator('details.qr');
  expect(await details.count()).toBe(1);
  expect(await details.isVisible()).toBe(false);
  await page.getByRole('button', { name: 'QR code' }).click();
  await dialog(page).waitFor();
  const pictures = dialog(page).locator('img, svg');
  expect(await pictures.count()).toBeGreaterThan(0);
  expect(await pictures.first().isVisible()).toBe(true);
  await page.keyboard.press('Escape');
  await dialog(page).waitFor({ state: 'detached' });
  expect(await focused(page)).toBe('QR code');
  expect(problems).toEqual([]);
  await page.context().close();
}, 60_000);

test('at desktop and phone width, light and dark: laid out, nothing overflows sideways; screenshots', async () => {
  fs.writeFileSync(path.join(dir, 'a rather long file name that has to wrap on a narrow phone screen.txt'), 'long\n');
  const { page, problems } = await open();
  expect(await page.evaluate("getComputedStyle(document.getElementById('file-manager')).display")).toBe('flex');
  await page.locator('#file-manager input[type="file"]:not([webkitdirectory])').setInputFiles([
    { name: 'holiday photo.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(40_000, 1) },
    { name: 'minutes.txt', mimeType: 'text/plain', buffer: Buffer.from('minutes\n') },
  ]);
  await row(page, 'minutes.txt').waitFor();
  // The file manager's own rules (FILE_MANAGER_STYLE) are in the page's style.
  expect(await page.evaluate("getComputedStyle(document.querySelector('.fm-uploads')).borderTopLeftRadius")).toBe('8px');
  await page.screenshot({ path: path.join(ARTIFACTS, 'file-manager-desktop.png'), fullPage: true });
  expect(problems).toEqual([]);
  await page.context().close();

  for (const colorScheme of ['light', 'dark'] as const) {
    const phone = await open('', { viewport: { width: 375, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, colorScheme });
    expect(await phone.page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    // Row actions shrink to glyphs; their accessible names stay.
    expect(await phone.page.evaluate("getComputedStyle(document.querySelector('td.actions button')).fontSize")).toBe('0px');
    expect(await phone.page.getByRole('button', { name: 'Delete minutes.txt' }).isVisible()).toBe(true);
    // Buttons read as the page does: light text on dark in dark mode, the reverse in light.
    const [fg, bg] = (await phone.page.evaluate(
      "(() => { const s = getComputedStyle(document.querySelector('#file-manager button')); return [s.color, s.backgroundColor]; })()",
    )) as [string, string];
    const light = (c: string) => c.match(/\d+/g)!.slice(0, 3).reduce((a, n) => a + Number(n), 0) > 382;
    expect([light(fg), light(bg)]).toEqual(colorScheme === 'dark' ? [true, false] : [false, true]);
    if (colorScheme === 'light') await phone.page.screenshot({ path: path.join(ARTIFACTS, 'file-manager-phone.png'), fullPage: true });
    expect(phone.problems).toEqual([]);
    await phone.page.context().close();
  }
}, 60_000);

test('a read-only listing (the --root site) carries no script and stays a plain listing', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page);
  const res = await page.goto(`${base}/`);
  expect(res?.status()).toBe(200);
  expect(await page.locator('body').getAttribute('data-writable')).toBe('false');
  expect(await page.locator('script').count()).toBe(0);
  expect(await page.locator('#file-manager > *, td.actions, dialog').count()).toBe(0);
  expect(await page.locator('td.name a').allTextContents()).toEqual(['public.txt']);
  expect(problems).toEqual([]);
  await context.close();
});
