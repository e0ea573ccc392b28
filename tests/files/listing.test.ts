// Directory listings: escaped names, working links for awkward names,
// folders first, natural order, sizes, modification times, parent link.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { type RunningServer, startServer } from '../helpers/server';
import { send, tempDir, writeTree } from './support';

let dir: string;
let server: RunningServer;

/** Names a browser and an HTML page find awkward, each with its own content. */
const AWKWARD = [
  '<img src=x onerror=alert(1)>.txt',
  'a & b.txt',
  'quote " and \' apostrophe.txt',
  'space in name.txt',
  'hash#name.txt',
  'question?mark.txt',
  'percent%41.txt',
  'plus+sign.txt',
  'caf\u00e9 \u65e5\u672c.txt',
  'javascript:alert(1)',
  'semi;colon=eq.txt',
];

beforeAll(async () => {
  dir = tempDir('listing');
  const files: Record<string, string> = {};
  AWKWARD.forEach((name, i) => (files[`awkward/${name}`] = `content ${i}`));
  writeTree(dir, {
    ...files,
    'mixed/zeta.txt': 'z',
    'mixed/Alpha.txt': 'a',
    'mixed/file10.txt': '10',
    'mixed/file2.txt': '2',
    'mixed/beta/x.txt': 'x',
    'mixed/Omega/y.txt': 'y',
    'mixed/kilobytes.bin': Buffer.alloc(1536),
    'mixed/.hidden': 'h',
    'with-index/index.html': '<!doctype html><title>own index</title>',
    'with-index/other.txt': 'other',
  });
  fs.utimesSync(path.join(dir, 'mixed', 'zeta.txt'), new Date('2023-07-04T09:08:07Z'), new Date('2023-07-04T09:08:07Z'));
  server = await startServer(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The href values of the links in the listing's rows (the parent link included), in order. */
function hrefs(html: string): string[] {
  return [...html.matchAll(/<td class="name"><a href="([^"]*)"/g)].map((m) => m[1]!);
}

/** Undoes the listing's HTML escaping of an attribute value. */
function unescapeAttr(s: string): string {
  return s.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))).replace(/&amp;/g, '&');
}

test('a listing is a UTF-8 HTML page, readable on a phone (viewport), titled with the path', async () => {
  const res = await send(server.port, '/files/mixed/');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('text/html; charset=utf-8');
  const html = res.body.toString();
  expect(html).toMatch(/^<!doctype html>/i);
  expect(html).toContain('<meta name="viewport" content="width=device-width,initial-scale=1">');
  expect(html).toContain('<title>Index of /files/mixed/</title>');
});

test('folders first, then files, each in natural order (file2 before file10), case-insensitively', async () => {
  const html = (await send(server.port, '/files/mixed/')).body.toString();
  expect(hrefs(html)).toEqual(['../', 'beta/', 'Omega/', 'Alpha.txt', 'file2.txt', 'file10.txt', 'kilobytes.bin', 'zeta.txt']);
});

test('sizes are readable with the exact bytes in a tooltip; times are UTC', async () => {
  const html = (await send(server.port, '/files/mixed/')).body.toString();
  expect(html).toContain('<span title="1536 bytes">1.50 KiB</span>');
  expect(html).toContain('<time datetime="2023-07-04T09:08:07.000Z">2023-07-04<span class="time"> 09:08</span></time>');
});

test('the top of the served directory has no parent link; folders below do', async () => {
  expect(hrefs((await send(server.port, '/files/')).body.toString())).not.toContain('../');
  expect(hrefs((await send(server.port, '/files/mixed/beta/')).body.toString())[0]).toBe('../');
});

test('awkward names are escaped in the page and every link leads to its own file', async () => {
  const html = (await send(server.port, '/files/awkward/')).body.toString();
  expect(html).not.toContain('<img src=x'); // (the page's own <img> is the QR code)
  expect(html).toContain('&#60;img src=x onerror=alert(1)&#62;.txt');
  const links = hrefs(html).filter((h) => h !== '../');
  expect(links).toHaveLength(AWKWARD.length);
  for (const href of links) {
    expect(href).not.toMatch(/^[a-z]+:/i); // never a scheme: every link stays relative
    const target = `/files/awkward/${unescapeAttr(href)}`;
    const res = await send(server.port, target);
    expect(res.status).toBe(200);
    const name = decodeURIComponent(unescapeAttr(href));
    expect(res.body.toString()).toBe(`content ${AWKWARD.indexOf(name)}`);
  }
});

test('a folder with index.html shows the index, not a listing', async () => {
  const res = await send(server.port, '/files/with-index/');
  expect(res.body.toString()).toBe('<!doctype html><title>own index</title>');
});

test('a listing is compressed for a client that accepts gzip, and decodes to the identity page', async () => {
  const identity = await send(server.port, '/files/mixed/');
  const res = await send(server.port, '/files/mixed/', { 'Accept-Encoding': 'gzip' });
  expect(res.header('Content-Encoding')).toBe('gzip');
  expect(res.header('Vary')).toBe('Accept, Accept-Encoding');
  expect(zlib.gunzipSync(res.body).equals(identity.body)).toBe(true);
});

test('HEAD of a listing sends exactly the head GET sends, for each coding', async () => {
  const variants: Record<string, string>[] = [{}, { 'Accept-Encoding': 'gzip' }, { 'Accept-Encoding': 'br;q=1, gzip;q=0.5' }];
  for (const headers of variants) {
    const get = await send(server.port, '/files/mixed/', headers);
    const res = await send(server.port, '/files/mixed/', headers, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.header('Content-Type')).toBe('text/html; charset=utf-8');
    expect(res.fieldLines).toEqual(get.fieldLines);
    expect(res.body.length).toBe(0);
  }
});

test('a small folder is one page: no page links', async () => {
  const html = (await send(server.port, '/files/mixed/')).body.toString();
  expect(html).not.toContain('rel="next"');
  expect(html).not.toContain('?page=');
  expect(html).toContain('<footer>2 folders, 5 files</footer>');
});

test('a listing has a weak ETag per coding; If-None-Match gets 304 until the folder changes', async () => {
  const first = await send(server.port, '/files/mixed/');
  const gz = await send(server.port, '/files/mixed/', { 'Accept-Encoding': 'gzip' });
  const etag = first.header('ETag')!;
  expect(etag).toMatch(/^W\/"[^"]+"$/);
  expect(gz.header('ETag')).not.toBe(etag);
  const again = await send(server.port, '/files/mixed/', { 'If-None-Match': etag });
  expect(again.status).toBe(304);
  expect(again.header('ETag')).toBe(etag);
  expect(again.body.length).toBe(0);
  // The identity tag does not validate the gzip-coded page.
  expect((await send(server.port, '/files/mixed/', { 'If-None-Match': etag, 'Accept-Encoding': 'gzip' })).status).toBe(200);
  fs.writeFileSync(path.join(dir, 'mixed', 'new.txt'), 'new');
  try {
    const changed = await send(server.port, '/files/mixed/', { 'If-None-Match': etag });
    expect(changed.status).toBe(200);
    expect(changed.header('ETag')).not.toBe(etag);
    expect(changed.body.toString()).toContain('href="new.txt"');
  } finally {
    fs.rmSync(path.join(dir, 'mixed', 'new.txt'));
  }
  expect((await send(server.port, '/files/mixed/')).body.toString()).not.toContain('new.txt');
});

test('a client that accepts no coding we have, not even identity, gets 406', async () => {
  const res = await send(server.port, '/files/mixed/', { 'Accept-Encoding': 'identity;q=0, *;q=0' });
  expect(res.status).toBe(406);
  expect(res.header('Vary')).toBe('Accept-Encoding');
});

test('adding a hidden name changes nothing shown: the ETag stays and If-None-Match still gets 304', async () => {
  const etag = (await send(server.port, '/files/mixed/')).header('ETag')!;
  fs.writeFileSync(path.join(dir, 'mixed', '.another-hidden'), 'h');
  try {
    const res = await send(server.port, '/files/mixed/', { 'If-None-Match': etag });
    expect(res.status).toBe(304);
  } finally {
    fs.rmSync(path.join(dir, 'mixed', '.another-hidden'));
  }
});
