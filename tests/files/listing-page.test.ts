// The listing page as the file manager's base (issue 10): data- attributes
// on the body and every row, a breadcrumb of working links, a search form,
// a QR code of the page's LAN URL, sortable columns that keep their order
// across pages, and a Content-Security-Policy whose hashes allow exactly
// the page's inline style and script; a listing that may not be written
// (the --root site, writable: false) has no script.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type AddressInfo } from 'node:net';
import { FILE_MANAGER_SCRIPT_HASH } from '../../app/files/page/script';
import { createHttpServer, type HttpServer } from '../../app/http/server';
import { Router } from '../../app/http/router';
import { filesRoute } from '../../stages/files';
import { notFound } from '../../stages/not-found';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';
import { send, tempDir, writeTree } from './support';

let dir: string;
let server: RunningServer;
let site: RunningServer;
let readOnly: HttpServer;
let readOnlyPort: number;

/** Folder with more rows than a page (1,000), distinct sizes and times. */
const MANY = 1150;
const sizeOf = (i: number) => (i * 7919) % 5003;
const mtimeOf = (i: number) => Date.UTC(2020, 0, 1) + ((i * 104729) % 100_000) * 60_000;

beforeAll(async () => {
  dir = tempDir('listing-page');
  writeTree(dir, {
    'a b/one.txt': '1',
    'a b/three.txt': '333',
    'a b/.hidden': 'h',
    'a b/sub/deep/x.txt': 'x',
    'a b/Zed/y.txt': 'y',
  });
  fs.utimesSync(path.join(dir, 'a b', 'one.txt'), new Date('2024-05-06T07:08:09.123Z'), new Date('2024-05-06T07:08:09.123Z'));
  fs.mkdirSync(path.join(dir, 'many'));
  fs.mkdirSync(path.join(dir, 'many', 'folder-b'));
  fs.mkdirSync(path.join(dir, 'many', 'folder-a'));
  for (let i = 0; i < MANY; i++) {
    const f = path.join(dir, 'many', `f${i}.bin`);
    fs.writeFileSync(f, Buffer.alloc(sizeOf(i)));
    fs.utimesSync(f, new Date(mtimeOf(i)), new Date(mtimeOf(i)));
  }
  server = await startServer(['--directory', dir]);
  site = await startServer(['--root', dir]);
  readOnly = createHttpServer(new Router([filesRoute(dir, { writable: false })], notFound).handle);
  await new Promise<void>((resolve) => readOnly.server.listen(0, '127.0.0.1', resolve));
  readOnlyPort = (readOnly.server.address() as AddressInfo).port;
}, 60_000);
afterAll(async () => {
  await server.stop();
  await site.stop();
  await readOnly.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** GET with `host` as the Host field (the shared `send` always says localhost). */
async function getWithHost(port: number, target: string, host: string): Promise<WireResponse> {
  const c = await RawClient.connect(port);
  try {
    c.send(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    return await c.readResponse({ timeoutMs: 15000 });
  } finally {
    c.close();
  }
}

function unescape(s: string): string {
  return s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
}

/** The text between the first `<tag>` and its `</tag>`. */
function inline(html: string, tag: string): string | undefined {
  const start = html.indexOf(`<${tag}>`);
  if (start === -1) return undefined;
  return html.slice(start + tag.length + 2, html.indexOf(`</${tag}>`, start));
}

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

interface Row {
  cls: string;
  name: string;
  type: string;
  size: string;
  mtime: string;
  href: string;
}

function rows(html: string): Row[] {
  const re = /<tr class="(dir|file)" data-name="([^"]*)" data-type="([^"]*)" data-size="([^"]*)" data-mtime="([^"]*)"><td class="name"><a href="([^"]*)">/g;
  return [...html.matchAll(re)].map((m) => ({ cls: m[1]!, name: unescape(m[2]!), type: m[3]!, size: m[4]!, mtime: m[5]!, href: unescape(m[6]!) }));
}

test('the body says whether the page may write and where it is; every entry row carries its name, type, size and time', async () => {
  const res = await send(server.port, '/files/a%20b/');
  const html = res.body.toString();
  expect(html).toContain('<body data-writable="true" data-path="/files/a%20b/">');
  expect(html).toMatch(/<\/h1><div id="file-manager"><\/div>/);
  const got = rows(html);
  expect(got.map((r) => r.name)).toEqual(['sub', 'Zed', 'one.txt', 'three.txt']);
  for (const r of got) {
    const st = fs.statSync(path.join(dir, 'a b', r.name));
    expect(r.type).toBe(st.isDirectory() ? 'directory' : 'file');
    expect(r.cls).toBe(st.isDirectory() ? 'dir' : 'file');
    expect(r.size).toBe(st.isDirectory() ? '' : String(st.size));
    expect(r.mtime).toBe(String(Math.round(st.mtimeMs)));
  }
  expect(got.find((r) => r.name === 'one.txt')!.mtime).toBe(String(Date.parse('2024-05-06T07:08:09.123Z')));
  // The parent row keeps its own markup, without entry data.
  expect(html).toContain('<tr class="dir parent"><td class="name"><a href="../">');
  // Without script: a search form.
  expect(html).toContain('<form method="get" class="search" role="search"><input type="search" name="q"');
});

test('awkward names are escaped in data-name and still name the file', async () => {
  const name = 'q"<&\'>.txt';
  fs.writeFileSync(path.join(dir, 'a b', name), 'awk');
  try {
    const html = (await send(server.port, '/files/a%20b/')).body.toString();
    expect(html).toContain('data-name="q&#34;&#60;&#38;&#39;&#62;.txt"');
    expect(rows(html).map((r) => r.name)).toContain(name);
  } finally {
    fs.rmSync(path.join(dir, 'a b', name));
  }
});

test('the heading is a breadcrumb: "Index of" for screen readers, then a link per folder up to /files/, each leading to its listing', async () => {
  const base = `http://127.0.0.1:${server.port}/files/a%20b/sub/deep/`;
  const html = (await send(server.port, '/files/a%20b/sub/deep/')).body.toString();
  const h1 = /<h1>(.*?)<\/h1>/.exec(html)![1]!;
  expect(h1.startsWith('<span class="vh">Index of </span>')).toBe(true);
  const links = [...h1.matchAll(/<a href="([^"]*)"[^>]*>([^<]*)<\/a>/g)].map((m) => [new URL(m[1]!, base).pathname, unescape(m[2]!)]);
  expect(links).toEqual([
    ['/files/', '/files/'],
    ['/files/a%20b/', 'a b/'],
    ['/files/a%20b/sub/', 'sub/'],
    ['/files/a%20b/sub/deep/', 'deep/'],
  ]);
  expect(h1).toContain('<a href="./" aria-current="page">deep/</a>');
  for (const [p] of links) {
    const res = await send(server.port, p!);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toContain(`data-path="${p}"`);
  }
  // The title keeps the plain path.
  expect(html).toContain('<title>Index of /files/a b/sub/deep/</title>');
});

test('the CSP allows exactly the inline style and script by their hashes, on 200 and 304 alike', async () => {
  const res = await send(server.port, '/files/a%20b/');
  const csp = res.header('Content-Security-Policy')!;
  const html = res.body.toString();
  const style = inline(html, 'style')!;
  const script = inline(html, 'script')!;
  expect(script.length).toBeGreaterThan(0);
  expect(sha256(script)).toBe(FILE_MANAGER_SCRIPT_HASH);
  expect(csp).toBe(
    `default-src 'none'; style-src ${sha256(style)}; script-src ${sha256(script)}; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  );
  // One <style>, one <script>, and no inline style attribute or handler the policy would block.
  expect(html.split('<style>').length).toBe(2);
  expect(html.split('<script>').length).toBe(2);
  expect(html).not.toMatch(/\sstyle=/);
  expect(html).not.toMatch(/\son[a-z]+=/);
  const again = await send(server.port, '/files/a%20b/', { 'If-None-Match': res.header('ETag')! });
  expect(again.status).toBe(304);
  expect(again.header('Content-Security-Policy')).toBe(csp);
});

test('a listing that may not be written has no script: the --root site, and /files/ with writable false', async () => {
  for (const [port, target, p] of [
    [site.port, '/a%20b/', '/a%20b/'],
    [readOnlyPort, '/files/a%20b/', '/files/a%20b/'],
  ] as const) {
    const res = await send(port, target);
    expect(res.status).toBe(200);
    const html = res.body.toString();
    expect(html).toContain(`<body data-writable="false" data-path="${p}">`);
    expect(html).not.toContain('<script');
    const csp = res.header('Content-Security-Policy')!;
    expect(csp).toBe(`default-src 'none'; style-src ${sha256(inline(html, 'style')!)}; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`);
    expect(rows(html).map((r) => r.name)).toEqual(['sub', 'Zed', 'one.txt', 'three.txt']);
  }
});

test('the QR code is an image of ?qr (no script needed), which encodes the URL the client used when its host is not loopback', async () => {
  const html = (await getWithHost(server.port, '/files/a%20b/', 'files.example:8080')).body.toString();
  expect(html).toContain('<details class="qr"><summary>QR code</summary><img src="?qr" alt="');
  const res = await getWithHost(server.port, '/files/a%20b/?qr', 'files.example:8080');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('image/svg+xml');
  const svg = res.body.toString();
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"[^>]*><title>http:\/\/files.example:8080\/files\/a%20b\/<\/title><path /);
  expect(svg).not.toMatch(/style=|<script/i);
  // The page itself does not depend on Host: one page (and ETag) for every client.
  const other = await getWithHost(server.port, '/files/a%20b/', 'other.example:9');
  expect(other.header('ETag')).toBe((await getWithHost(server.port, '/files/a%20b/', 'files.example:8080')).header('ETag'));
});

test('behind a loopback host the QR code uses the machine\'s LAN address and the port asked for', async () => {
  const lan = Object.values(os.networkInterfaces())
    .flat()
    .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;
  const page = (await getWithHost(server.port, '/files/a%20b/', `localhost:${server.port}`)).body.toString();
  const res = await getWithHost(server.port, '/files/a%20b/?qr', `localhost:${server.port}`);
  if (lan === undefined) {
    expect(page).not.toContain('class="qr"');
    expect(res.status).toBe(404);
  } else {
    expect(page).toContain('class="qr"');
    expect(res.body.toString()).toContain(`<title>http://${lan}:${server.port}/files/a%20b/</title>`);
  }
});

/** Every entry of `/files/many/` in order `query`, following the next links from page 1. */
async function allPages(query: string): Promise<{ names: string[]; firstPage: string }> {
  let target: string | undefined = `/files/many/${query}`;
  const names: string[] = [];
  let firstPage = '';
  for (let n = 0; target !== undefined && n < 5; n++) {
    const res = await send(server.port, target);
    expect(res.status).toBe(200);
    const html = res.body.toString();
    if (n === 0) firstPage = html;
    names.push(...rows(html).map((r) => r.name));
    const next = /<a href="([^"]*)" rel="next">/.exec(html)?.[1];
    target = next === undefined ? undefined : `/files/many/${unescape(next)}`;
  }
  return { names, firstPage };
}

const FILES = Array.from({ length: MANY }, (_, i) => i);
const nameOf = (i: number) => `f${i}.bin`;
const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const byName = (a: number, b: number) => collator.compare(nameOf(a), nameOf(b));

test.each([
  ['', ['folder-a', 'folder-b'], [...FILES].sort(byName)],
  ['?sort=name&order=desc', ['folder-b', 'folder-a'], [...FILES].sort(byName).reverse()],
  ['?sort=size&order=asc', ['folder-a', 'folder-b'], [...FILES].sort((a, b) => sizeOf(a) - sizeOf(b) || byName(a, b))],
  ['?sort=size&order=desc', ['folder-a', 'folder-b'], [...FILES].sort((a, b) => sizeOf(b) - sizeOf(a) || byName(a, b))],
  ['?sort=mtime&order=asc', ['folder-a', 'folder-b'], [...FILES].sort((a, b) => mtimeOf(a) - mtimeOf(b) || byName(a, b))],
  ['?sort=mtime&order=desc', ['folder-a', 'folder-b'], [...FILES].sort((a, b) => mtimeOf(b) - mtimeOf(a) || byName(a, b))],
])('%s: folders first, every entry once across the pages, in that order', async (query, folders, files) => {
  const { names, firstPage } = await allPages(query);
  expect(names).toEqual([...folders, ...files.map(nameOf)]);
  // The page links and the page form keep the order.
  const next = /<a href="([^"]*)" rel="next">/.exec(firstPage)![1]!;
  if (query === '') expect(next).toBe('?page=2');
  else {
    expect(unescape(next)).toBe(`${query}&page=2`);
    const [, sort, order] = /sort=(\w+)&order=(\w+)/.exec(query)!;
    expect(firstPage).toContain(`<input type="hidden" name="sort" value="${sort}"><input type="hidden" name="order" value="${order}">`);
  }
});

test('column headers link to their order; the current column flips it and is marked for assistive technology', async () => {
  const headers = (html: string) =>
    [...html.matchAll(/<th class="(\w+)"( aria-sort="\w+")?><a href="([^"]*)">/g)].map((m) => [m[1], (m[2] ?? '').trim(), unescape(m[3]!)]);
  expect(headers((await send(server.port, '/files/many/')).body.toString())).toEqual([
    ['name', 'aria-sort="ascending"', '?sort=name&order=desc'],
    ['size', '', '?sort=size&order=asc'],
    ['mtime', '', '?sort=mtime&order=asc'],
  ]);
  expect(headers((await send(server.port, '/files/many/?sort=size&order=asc&page=2')).body.toString())).toEqual([
    ['name', '', './'],
    ['size', 'aria-sort="ascending"', '?sort=size&order=desc'],
    ['mtime', '', '?sort=mtime&order=asc'],
  ]);
});

test('a bad sort or order is 400; a page past the last is 404 in any order', async () => {
  for (const q of ['sort=colour', 'order=up', 'sort=size&order=sideways', 'q=%zz']) expect((await send(server.port, `/files/many/?${q}`)).status).toBe(400);
  expect((await send(server.port, '/files/many/?sort=size&page=3')).status).toBe(404);
  expect((await send(server.port, '/files/many/?sort=size&page=2')).status).toBe(200);
});

test('a file that grows shows at its new place in size order within a second', async () => {
  const f = path.join(dir, 'many', 'f0.bin'); // size 0: first in ascending size order
  const first = async () => rows((await send(server.port, '/files/many/?sort=size&order=desc')).body.toString()).find((r) => r.type === 'file')!;
  expect((await first()).name).not.toBe('f0.bin');
  fs.writeFileSync(f, Buffer.alloc(6000));
  try {
    const deadline = Date.now() + 5000;
    let top = await first();
    while (top.name !== 'f0.bin' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      top = await first();
    }
    expect(top).toMatchObject({ name: 'f0.bin', size: '6000' });
  } finally {
    fs.writeFileSync(f, Buffer.alloc(0));
    fs.utimesSync(f, new Date(mtimeOf(0)), new Date(mtimeOf(0)));
  }
});

test('the page links the folder as a zip and as a tar (no script needed), and those links download it', async () => {
  const html = (await send(server.port, '/files/a%20b/')).body.toString();
  const links = /<p class="downloads">.*?<\/p>/.exec(html)![0];
  const hrefs = [...links.matchAll(/href="([^"]+)"/g)].map((m) => m[1]!);
  expect(hrefs).toEqual(['?zip', '?tar']);
  for (const [href, type] of [['?zip', 'application/zip'], ['?tar', 'application/x-tar']] as const) {
    const res = await send(server.port, new URL(href, 'http://x/files/a%20b/').pathname + href);
    expect([href, res.status, res.header('Content-Type')]).toEqual([href, 200, type]);
    expect(res.header('Content-Disposition')).toContain('attachment; filename="a b.');
  }
});
