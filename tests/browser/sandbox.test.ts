// An uploaded HTML page must not act with the server's origin: in headless
// Chromium, evil.html (uploaded with PUT) tries to read another upload and
// to DELETE one with the user's credentials. Served under /files/ it gets
// `Content-Security-Policy: sandbox`: its script does not run, and even
// script forced into it (through the DevTools protocol) runs in an opaque
// origin whose requests to us fail; nothing is deleted on disk. The same
// page from the --root site (the owner's own, not sandboxed) does read the
// secret and delete the file: the header is what stops it.
import fs from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../helpers/browser';
import { type RunningServer, startServer } from '../helpers/server';
import { tempDir, writeTree } from '../files/support';

const SECRET = 'TOP SECRET, uploaded by someone else';
/** What evil.html does, as page-side source (the tests compile without the DOM library). */
const ATTACK = `(async () => {
  const out = ['origin ' + self.origin];
  const victim = new URLSearchParams(location.search).get('victim');
  try {
    const r = await fetch('/files/secret.txt', { credentials: 'include' });
    out.push('read ' + r.status + ' ' + (await r.text()));
  } catch (e) { out.push('read failed'); }
  try {
    const r = await fetch('/files/' + victim, { method: 'DELETE', credentials: 'include' });
    out.push('delete ' + r.status);
  } catch (e) { out.push('delete failed'); }
  return out.join('; ');
})()`;
const EVIL = `<!doctype html>
<html><head><meta charset="utf-8"><title>script did not run</title></head>
<body><p>Nothing to see here.</p>
<script>${ATTACK}.then((report) => { document.title = report; });</script>
</body></html>
`;

let server: RunningServer;
let browser: Browser;
let files: string;
let site: string;
let base: string;

beforeAll(async () => {
  files = tempDir('sandbox-files');
  site = tempDir('sandbox-site');
  writeTree(files, { 'secret.txt': SECRET, 'victim-1.txt': 'keep me', 'victim-2.txt': 'keep me too' });
  writeTree(site, { 'evil.html': EVIL });
  server = await startServer(['--directory', files, '--root', site]);
  base = `http://127.0.0.1:${server.port}`;
  // evil.html arrives the way any upload does.
  const put = await fetch(`${base}/files/evil.html`, { method: 'PUT', body: EVIL });
  expect(put.status).toBe(201);
  browser = await launchBrowser();
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await server?.stop();
  fs.rmSync(files, { recursive: true, force: true });
  fs.rmSync(site, { recursive: true, force: true });
});

/** Opens `url`, lets its script (if any) finish, and returns the page with the requests it sent to the server. */
async function open(url: string): Promise<{ page: Page; sent: string[]; csp: string | undefined }> {
  const page = await browser.newPage();
  const sent: string[] = [];
  page.on('request', (r) => sent.push(`${r.method()} ${new URL(r.url()).pathname}`));
  const res = await page.goto(url);
  expect(res?.status()).toBe(200);
  await page.waitForLoadState('load');
  await page.waitForTimeout(300); // the attack's two fetches, when it runs, take a few ms on loopback
  return { page, sent, csp: res?.headers()['content-security-policy'] };
}

test('served under /files/, the uploaded page runs no script: nothing is read, nothing deleted', async () => {
  const { page, sent, csp } = await open(`${base}/files/evil.html?victim=victim-1.txt`);
  expect(csp).toBe('sandbox');
  expect(await page.title()).toBe('script did not run');
  expect(sent).toEqual(['GET /files/evil.html']);
  expect(fs.readFileSync(path.join(files, 'victim-1.txt'), 'utf8')).toBe('keep me');
  await page.close();
});

test('even script forced into the sandboxed page has an opaque origin: both requests fail, the file stays', async () => {
  const { page } = await open(`${base}/files/evil.html?victim=victim-1.txt`);
  expect(await page.evaluate(ATTACK)).toBe('origin null; read failed; delete failed');
  expect(fs.readFileSync(path.join(files, 'victim-1.txt'), 'utf8')).toBe('keep me');
  await page.close();
});

test('the same page from the --root site (not sandboxed) reads the secret and deletes a file: the header is what stops it', async () => {
  const { page, csp } = await open(`${base}/evil.html?victim=victim-2.txt`);
  expect(csp).toBeUndefined();
  await page.waitForFunction("document.title !== 'script did not run'");
  expect(await page.title()).toBe(`origin ${base}; read 200 ${SECRET}; delete 204`);
  expect(fs.existsSync(path.join(files, 'victim-2.txt'))).toBe(false);
  await page.close();
});
