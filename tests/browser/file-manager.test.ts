// The file manager page, uploads: a person picks files and a folder (or
// drops files), watches progress bars, cancels one, is asked before a file
// is replaced. Real server (`--directory`), real Chromium; every result is
// checked on disk, and the page reports no console error, no CSP
// violation and no exception.
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { launchChromium, until, watchProblems } from '../helpers/chromium-page';
import { type RunningServer, startServer } from '../helpers/server';
import { tempDir, writeTree } from '../files/support';

let server: RunningServer;
let browser: Browser;
let dir: string;
let local: string;
let base: string;

beforeAll(async () => {
  dir = tempDir('fm-uploads');
  local = tempDir('fm-picked');
  writeTree(dir, { 'notes.txt': 'old notes\n', 'photos/cat.txt': 'a cat\n' });
  server = await startServer(['--directory', dir]);
  base = `http://127.0.0.1:${server.port}`;
  browser = await launchChromium();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  fs.rmSync(local, { recursive: true, force: true });
});

interface Opened {
  page: Page;
  /** Console errors and warnings, exceptions, and alert() calls, as they come. */
  problems: string[];
  /** The PUT requests the page sent: name below /files/ and precondition fields. */
  puts: { path: string; ifMatch?: string; ifNoneMatch?: string }[];
}

/** Opens `/files/` as a person would and waits for the script's toolbar. */
async function open(): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  const page = await context.newPage();
  const problems = watchProblems(page);
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  const puts: Opened['puts'] = [];
  page.on('request', (r) => {
    if (r.method() !== 'PUT') return;
    const h = r.headers();
    puts.push({ path: decodeURIComponent(new URL(r.url()).pathname), ifMatch: h['if-match'], ifNoneMatch: h['if-none-match'] });
  });
  const res = await page.goto(`${base}/files/`);
  expect(res?.status()).toBe(200);
  await page.getByRole('button', { name: 'Upload files' }).waitFor();
  // Set once: still there at the end means the page was never reloaded.
  await page.evaluate('window.sameDocument = true');
  return { page, problems, puts };
}

async function notReloaded(page: Page): Promise<void> {
  expect(await page.evaluate('window.sameDocument')).toBe(true);
}

const filesInput = (page: Page) => page.locator('#file-manager input[type="file"]:not([webkitdirectory])');
const folderInput = (page: Page) => page.locator('#file-manager input[type="file"][webkitdirectory]');
/** The upload panel's item for `rel`. */
const item = (page: Page, rel: string) => page.locator('.fm-uploads li').filter({ has: page.getByText(rel, { exact: true }) });
/** The listing's row whose link reads exactly `label` (folders end in `/`). */
const row = (page: Page, label: string) => page.locator('tbody tr').filter({ has: page.getByRole('link', { name: label, exact: true }) });
const read = (rel: string) => fs.readFileSync(path.join(dir, rel));

async function waitState(li: Locator, state: string): Promise<void> {
  await li.and(li.page().locator(`[data-state="${state}"]`)).waitFor({ timeout: 30_000 });
}

/** Polls `check` every 50 ms until it holds (or fails after `ms`). */
async function eventually(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`still false after ${ms} ms: ${check.toString()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Names in a folder on disk, dot-names (temporary files, locks) included. */
const onDisk = (rel = '') => fs.readdirSync(path.join(dir, rel)).sort();

/** Limits the page's upload bandwidth (Chromium's network emulation). */
async function throttle(page: Page, bytesPerSecond: number): Promise<void> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: bytesPerSecond });
}

test('several files and a whole folder, picked with the file inputs, are stored as sent and appear in the listing without a reload', async () => {
  const { page, problems, puts } = await open();
  const picked = [
    { name: 'plain.txt', mimeType: 'text/plain', buffer: Buffer.from('plain text\n') },
    { name: 'with space & ampersand #1 ?.txt', mimeType: 'text/plain', buffer: Buffer.from('awkward url characters\n') },
    { name: 'naïve café 日本.txt', mimeType: 'text/plain', buffer: Buffer.from('not ascii\n') },
    { name: '100%.bin', mimeType: 'application/octet-stream', buffer: crypto.randomBytes(300_000) },
    { name: '<img src=x onerror=alert(1)>.txt', mimeType: 'text/plain', buffer: Buffer.from('markup in a name\n') },
  ];
  await filesInput(page).setInputFiles(picked);
  for (const f of picked) await waitState(item(page, f.name), 'done');
  for (const f of picked) {
    expect(read(f.name).equals(f.buffer)).toBe(true);
    // The new row is in the listing's markup, and its link leads to the file.
    const tr = row(page, f.name);
    expect(await tr.getAttribute('data-name')).toBe(f.name);
    expect(await tr.getAttribute('data-type')).toBe('file');
    expect(await tr.getAttribute('data-size')).toBe(String(f.buffer.length));
    const href = await tr.locator('td.name a').getAttribute('href');
    const got = await fetch(new URL(href!, page.url()));
    expect(Buffer.from(await got.arrayBuffer()).equals(f.buffer)).toBe(true);
  }
  expect(await page.locator('.fm-total').textContent()).toContain('5 of 5 files');
  // New names are created only if still free: If-None-Match: *.
  expect(puts.map((p) => p.ifNoneMatch)).toEqual(picked.map(() => '*'));

  // A folder, with a folder inside it: the tree is kept.
  writeTree(local, { 'album/a.txt': 'first\n', 'album/inner/deep b.txt': 'second\n', 'album/inner/c.bin': crypto.randomBytes(70_000) });
  await folderInput(page).setInputFiles(path.join(local, 'album'));
  for (const rel of ['album/a.txt', 'album/inner/deep b.txt', 'album/inner/c.bin']) {
    await waitState(item(page, rel), 'done');
    expect(read(rel).equals(fs.readFileSync(path.join(local, rel)))).toBe(true);
  }
  expect(await row(page, 'album/').getAttribute('data-type')).toBe('directory');
  expect(onDisk().filter((n) => n.startsWith('.'))).toEqual([]);
  await notReloaded(page);
  expect(problems).toEqual([]);
  await page.context().close();
}, 60_000);

test('an existing name is replaced only when the person says so, with If-Match; a file changed meanwhile is not overwritten (412)', async () => {
  const { page, problems, puts } = await open();
  const listed = (await (await fetch(`${base}/files/?json`)).json()) as { entries: { name: string; etag: string | null }[] };
  const etag = listed.entries.find((e) => e.name === 'notes.txt')!.etag;
  expect(etag).toMatch(/^(W\/)?"/);
  const dialog = page.locator('dialog[open]');
  const pick = (text: string) => filesInput(page).setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from(text) });
  const focused = () => page.evaluate('document.activeElement.textContent');

  // Skip, by keyboard: focus starts on Replace; Tab, Enter.
  await pick('new notes\n');
  await dialog.waitFor();
  expect(await dialog.textContent()).toContain('“notes.txt” already exists');
  expect(await focused()).toBe('Replace');
  await page.keyboard.press('Tab');
  expect(await focused()).toBe('Skip');
  await page.keyboard.press('Enter');
  await dialog.waitFor({ state: 'detached' });
  // Escape cancels the whole upload.
  await pick('new notes\n');
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  expect(await page.locator('.fm-status').textContent()).toContain('cancelled');
  expect(puts).toEqual([]);
  expect(read('notes.txt').toString()).toBe('old notes\n');

  // Replace: sent with the listed entity-tag.
  await pick('new notes\n');
  await dialog.waitFor();
  await page.keyboard.press('Enter');
  await waitState(item(page, 'notes.txt'), 'done');
  expect(read('notes.txt').toString()).toBe('new notes\n');
  expect(puts).toEqual([{ path: '/files/notes.txt', ifMatch: etag, ifNoneMatch: undefined }]);
  await until(page, "document.querySelector('tbody tr[data-name=\"notes.txt\"]')?.dataset.size === '10'");

  // Someone else changes the file (another size, so another entity-tag) while
  // the dialog is open: 412, the page says so, their version stays.
  await pick('third version\n');
  await dialog.waitFor();
  fs.writeFileSync(path.join(dir, 'notes.txt'), 'changed by someone else\n');
  // A file rewritten in place (not through the server) shows in listings
  // within 1 s (the listing cache's stated guarantee): let the listing
  // read last age past that, so the refresh after the 412 must see it.
  await new Promise((r) => setTimeout(r, 1100));
  await dialog.getByRole('button', { name: 'Replace' }).click();
  const failed = item(page, 'notes.txt').last();
  await waitState(failed, 'failed');
  expect(await failed.locator('.fm-info').textContent()).toContain('changed on the server');
  expect(read('notes.txt').toString()).toBe('changed by someone else\n');
  // The listing shows the version on disk now.
  await until(page, `document.querySelector('tbody tr[data-name="notes.txt"]')?.dataset.size === '${'changed by someone else\n'.length}'`);
  // Chromium logs a failed request as an error: exactly that one 412.
  expect(problems.length).toBe(1);
  expect(problems[0]).toMatch(/status of 412/);
  await page.context().close();
}, 60_000);

test('a slow upload shows its progress moving, with speed and time left, then the whole file is on disk', async () => {
  const { page, problems } = await open();
  await throttle(page, 400 * 1024);
  const big = crypto.randomBytes(1536 * 1024);
  await filesInput(page).setInputFiles({ name: 'big.bin', mimeType: 'application/octet-stream', buffer: big });
  const li = item(page, 'big.bin');
  const values: number[] = [];
  let info = '';
  let total = '';
  for (;;) {
    const [state, value, text, totalText] = await Promise.all([
      li.getAttribute('data-state'),
      li.locator('progress').getAttribute('value'),
      li.locator('.fm-info').textContent(),
      page.locator('.fm-total').textContent(),
    ]);
    if (state === 'done') break;
    if (state === 'sending' && Number(value) > 0 && Number(value) < big.length) {
      if (values.at(-1) !== Number(value)) values.push(Number(value));
      info = text ?? '';
      total = totalText ?? '';
    }
    expect(state === 'queued' || state === 'sending').toBe(true);
    await new Promise((r) => setTimeout(r, 40));
  }
  // At least two steps seen before completion, each larger than the last.
  expect(values.length).toBeGreaterThanOrEqual(2);
  for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThan(values[i - 1]!);
  expect(info).toMatch(/^[\d.]+ (B|KiB|MiB) of 1\.50 MiB · [\d.]+ (B|KiB|MiB)\/s · .+ left$/);
  expect(total).toMatch(/^Total: 0 of 1 file · .+ of 1\.50 MiB · .+\/s · .+ left$/);
  expect(await li.locator('progress').getAttribute('value')).toBe(String(big.length));
  expect(read('big.bin').equals(big)).toBe(true);
  expect(problems).toEqual([]);
  await page.context().close();
}, 60_000);

test('a cancelled upload leaves nothing on disk, not even a temporary file, and no row', async () => {
  const { page, problems } = await open();
  await throttle(page, 200 * 1024);
  await filesInput(page).setInputFiles([
    { name: 'cancel-me.bin', mimeType: 'application/octet-stream', buffer: crypto.randomBytes(4 * 1024 * 1024) },
    { name: 'keep-me.txt', mimeType: 'text/plain', buffer: Buffer.from('kept\n') },
  ]);
  const li = item(page, 'cancel-me.bin');
  await until(page, "Number(document.querySelector('.fm-uploads li[data-name=\"cancel-me.bin\"] progress')?.getAttribute('value')) > 0");
  // Something is on its way: the server holds a temporary file.
  await eventually(() => onDisk().some((n) => n.startsWith('.')));
  await page.getByRole('button', { name: 'Cancel cancel-me.bin' }).click();
  await waitState(li, 'cancelled');
  await waitState(item(page, 'keep-me.txt'), 'done');
  await eventually(() => !onDisk().some((n) => n.startsWith('.')));
  expect(onDisk()).not.toContain('cancel-me.bin');
  expect(read('keep-me.txt').toString()).toBe('kept\n');
  expect(await row(page, 'cancel-me.bin').count()).toBe(0);
  expect(await row(page, 'keep-me.txt').count()).toBe(1);
  expect(await page.locator('.fm-total').textContent()).toMatch(/^Total: 1 of 1 file · /);
  expect(problems).toEqual([]);
  await page.context().close();
}, 60_000);

test('a new name taken by someone else while its upload waits is not overwritten (If-None-Match: *, 412)', async () => {
  const { page, problems, puts } = await open();
  await throttle(page, 300 * 1024);
  // Three uploads at a time: the fourth waits in the queue.
  const slow = ['slow-1.bin', 'slow-2.bin', 'slow-3.bin'].map((name) => ({ name, mimeType: 'application/octet-stream', buffer: crypto.randomBytes(400 * 1024) }));
  await filesInput(page).setInputFiles([...slow, { name: 'late.txt', mimeType: 'text/plain', buffer: Buffer.from('mine\n') }]);
  const late = item(page, 'late.txt');
  await waitState(item(page, 'slow-1.bin'), 'sending');
  expect(await late.getAttribute('data-state')).toBe('queued');
  fs.writeFileSync(path.join(dir, 'late.txt'), 'someone else\n');
  await waitState(late, 'failed');
  expect(await late.locator('.fm-info').textContent()).toBe('not uploaded: a file by that name appeared on the server meanwhile');
  expect(read('late.txt').toString()).toBe('someone else\n');
  for (const f of slow) {
    await waitState(item(page, f.name), 'done');
    expect(read(f.name).equals(f.buffer)).toBe(true);
  }
  expect(puts.find((p) => p.path === '/files/late.txt')?.ifNoneMatch).toBe('*');
  // The row shows the file that is on disk.
  await until(page, `document.querySelector('tbody tr[data-name="late.txt"]')?.dataset.size === '${'someone else\n'.length}'`);
  expect(problems).toHaveLength(1);
  expect(problems[0]).toMatch(/status of 412/);
  await page.context().close();
}, 60_000);

test('files dropped on the page are uploaded', async () => {
  const { page, problems } = await open();
  // A drop as the browser delivers it (a real drag cannot be scripted from outside).
  await page.evaluate(`(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped one\\n'], 'dropped-1.txt', { type: 'text/plain' }));
    dt.items.add(new File(['dropped two\\n'], 'dropped-2.txt', { type: 'text/plain' }));
    const target = document.querySelector('main');
    target.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
    target.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  })()`);
  await waitState(item(page, 'dropped-1.txt'), 'done');
  await waitState(item(page, 'dropped-2.txt'), 'done');
  expect(read('dropped-1.txt').toString()).toBe('dropped one\n');
  expect(read('dropped-2.txt').toString()).toBe('dropped two\n');
  expect(await row(page, 'dropped-2.txt').count()).toBe(1);
  expect(problems).toEqual([]);
  await page.context().close();
}, 60_000);
