// Cross-origin fetch() from a real browser (headless Chromium): a page
// served by a second server (another port, so another origin) uses the
// file server started with --cors. A listed origin reads ETag and
// Content-Range, and PUTs and DELETEs with credentials after a preflight the
// server answers; an origin not listed, or a server without --cors, gets
// nothing; --cors without ORIGIN serves any origin, never with credentials.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { type RunningServer, startServer } from '../helpers/server';
import { tempDir, writeTree } from '../files/support';

let browser: Browser;
let pages: RunningServer; // serves the calling page: http://127.0.0.1:P and http://localhost:P are two origins
let listed: RunningServer; // --cors http://127.0.0.1:P
let any: RunningServer; // --cors
let site: string;
let files: string;
let log: string;

beforeAll(async () => {
  site = tempDir('cors-site');
  files = tempDir('cors-files');
  log = path.join(site, '..', `${path.basename(site)}.log`);
  writeTree(site, { 'index.html': '<!doctype html><title>caller</title>' });
  writeTree(files, { 'a.txt': 'hello, other origin', 'victim.txt': 'keep me' });
  pages = await startServer(['--root', site]);
  listed = await startServer(['--directory', files, '--cors', `http://127.0.0.1:${pages.port}`, '--access-log', log, '--log-format', 'csv']);
  any = await startServer(['--directory', files, '--cors']);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await Promise.all([pages?.stop(), listed?.stop(), any?.stop()]);
  for (const p of [site, files, log]) fs.rmSync(p, { recursive: true, force: true });
});

/** A page at `origin`, the caller's document. */
async function caller(origin: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(`${origin}/`);
  expect(await page.title()).toBe('caller');
  return page;
}

/**
 * Runs `fetch(url, init)` in the page; reports the status and the named
 * response fields as the script sees them, or `failed` when fetch rejects
 * (a CORS failure; the script learns nothing more).
 */
function run(page: Page, url: string, init: object, read: string[] = []): Promise<string> {
  return page.evaluate(`fetch(${JSON.stringify(url)}, ${JSON.stringify(init)}).then(
    async (r) => [r.status, ...${JSON.stringify(read)}.map((n) => n + '=' + r.headers.get(n)), await r.text()].join(' | '),
    () => 'failed')`) as Promise<string>;
}

/** The access log's method,target,status triples (csv: method is field 6, target 7, status 9). */
async function logged(): Promise<string[]> {
  await new Promise((r) => setTimeout(r, 300)); // lines are written within 100 ms
  return fs.readFileSync(log, 'utf8').trim().split('\n').slice(1).map((l) => {
    const f = l.split(',');
    return `${f[5]} ${f[6]} ${f[8]}`;
  });
}

test('a listed origin reads the content and the exposed ETag and Content-Range, with credentials', async () => {
  const page = await caller(`http://127.0.0.1:${pages.port}`);
  const a = `http://127.0.0.1:${listed.port}/files/a.txt`;
  const got = await run(page, a, { credentials: 'include' }, ['etag', 'content-length']);
  expect(got).toMatch(/^200 \| etag="[^"]+" \| content-length=\d+ \| hello, other origin$/); // Chromium gets it gzip-coded: the coded length
  expect(await run(page, a, { headers: { Range: 'bytes=7-11' }, credentials: 'include' }, ['content-range'])).toBe('206 | content-range=bytes 7-11/19 | other');
  await page.close();
});

test('a listed origin PUTs (If-None-Match) and DELETEs with credentials: the server answers each preflight, the disk changes', async () => {
  const page = await caller(`http://127.0.0.1:${pages.port}`);
  const base = `http://127.0.0.1:${listed.port}/files`;
  const put = { method: 'PUT', body: 'from a page', credentials: 'include', headers: { 'Content-Type': 'text/plain', 'If-None-Match': '*' } };
  expect(await run(page, `${base}/made-by-page.txt`, put, ['etag'])).toMatch(/^201 \| etag="[^"]+" \| $/);
  expect(fs.readFileSync(path.join(files, 'made-by-page.txt'), 'utf8')).toBe('from a page');
  expect(await run(page, `${base}/made-by-page.txt`, put)).toMatch(/^412 \| /); // the page reads our refusal too
  expect(await run(page, `${base}/made-by-page.txt`, { method: 'DELETE', credentials: 'include' })).toBe('204 | ');
  expect(fs.existsSync(path.join(files, 'made-by-page.txt'))).toBe(false);
  const lines = await logged();
  expect(lines).toContain('OPTIONS /files/made-by-page.txt 204');
  expect(lines).toContain('PUT /files/made-by-page.txt 201');
  expect(lines).toContain('DELETE /files/made-by-page.txt 204');
  await page.close();
});

test('an origin not listed reads nothing and deletes nothing (its DELETE never leaves the browser)', async () => {
  const page = await caller(`http://localhost:${pages.port}`); // same server, another origin
  const base = `http://127.0.0.1:${listed.port}/files`;
  expect(await run(page, `${base}/a.txt`, {})).toBe('failed');
  expect(await run(page, `${base}/victim.txt`, { method: 'DELETE' })).toBe('failed');
  expect(fs.readFileSync(path.join(files, 'victim.txt'), 'utf8')).toBe('keep me');
  expect(await logged()).not.toContain('DELETE /files/victim.txt 204');
  await page.close();
});

test('without --cors, the same cross-origin read fails', async () => {
  const page = await caller(`http://localhost:${pages.port}`);
  expect(await run(page, `http://127.0.0.1:${pages.port}/index.html`, {})).toBe('failed');
  await page.close();
});

test('--cors without ORIGIN serves any origin, but never with credentials', async () => {
  const page = await caller(`http://localhost:${pages.port}`);
  const a = `http://127.0.0.1:${any.port}/files/a.txt`;
  expect(await run(page, a, {}, ['etag'])).toMatch(/^200 \| etag="[^"]+" \| hello, other origin$/);
  expect(await run(page, a, { credentials: 'include' })).toBe('failed');
  await page.close();
});
