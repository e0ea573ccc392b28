// Serving files under /files/ (--directory): nested paths, media types,
// HEAD without reading the file, folders (redirect, index.html), exact
// bytes for the stage's extension-less names.
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { curl, send, tempDir, writeTree } from './support';

let dir: string;
let server: RunningServer;
const base = () => `http://127.0.0.1:${server.port}`;

beforeAll(async () => {
  dir = tempDir('serving');
  writeTree(dir, {
    'docs/a.pdf': '%PDF-1.4 not really',
    'docs/deep/er/notes.txt': 'deep notes\n',
    'page.html': '<!doctype html><p>hi</p>',
    'data.json': '{"a":1}',
    'pic.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]),
    'no_extension_name': 'raw bytes',
    'json': 'a file named like an extension',
    'weird.unknownext': 'x',
    'site/index.html': '<!doctype html><title>index</title>',
    'caf\u00e9 menu.txt': 'cr\u00e8me br\u00fbl\u00e9e',
    'empty.txt': '',
  });
  // 64 MiB, sparse: large enough that reading it would show in the server's I/O counters.
  fs.closeSync(fs.openSync(path.join(dir, 'big.bin'), 'w'));
  fs.truncateSync(path.join(dir, 'big.bin'), 64 * 1024 * 1024);
  server = await startServer(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('nested paths are served with their exact bytes', async () => {
  const res = await send(server.port, '/files/docs/deep/er/notes.txt');
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('deep notes\n');
  expect(res.header('Content-Length')).toBe('11');
});

test.each([
  ['/files/docs/a.pdf', 'application/pdf'],
  ['/files/page.html', 'text/html; charset=utf-8'],
  ['/files/data.json', 'application/json; charset=utf-8'],
  ['/files/docs/deep/er/notes.txt', 'text/plain; charset=utf-8'],
  ['/files/pic.png', 'image/png'],
  ['/files/no_extension_name', 'application/octet-stream'],
  ['/files/json', 'application/octet-stream'],
  ['/files/weird.unknownext', 'application/octet-stream'],
])('%s is served as %s', async (target, type) => {
  const res = await send(server.port, target);
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe(type);
});

test('an extension-less name without Accept-Encoding is exactly what stage ap6 wants', async () => {
  const res = await send(server.port, '/files/no_extension_name');
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('application/octet-stream');
  expect(res.header('Content-Encoding')).toBeUndefined();
  expect(res.header('Content-Length')).toBe('9');
  expect(res.body.toString()).toBe('raw bytes');
});

test('percent-encoded UTF-8 names are decoded once', async () => {
  const res = await send(server.port, '/files/caf%C3%A9%20menu.txt');
  expect(res.status).toBe(200);
  expect(res.body.toString('utf8')).toBe('cr\u00e8me br\u00fbl\u00e9e');
});

test('an empty file is 200 with Content-Length: 0', async () => {
  const res = await send(server.port, '/files/empty.txt');
  expect(res.status).toBe(200);
  expect(res.header('Content-Length')).toBe('0');
  expect(res.body.length).toBe(0);
});

test('missing files, files with a trailing slash and GET /files without --directory content are 404', async () => {
  expect((await send(server.port, '/files/nope.txt')).status).toBe(404);
  expect((await send(server.port, '/files/docs/a.pdf/')).status).toBe(404);
  expect((await send(server.port, '/files/docs/nope/x')).status).toBe(404);
});

test('a folder without its trailing slash is redirected (301) to it, query kept', async () => {
  const res = await send(server.port, '/files/docs?x=1');
  expect(res.status).toBe(301);
  expect(res.header('Location')).toBe('/files/docs/?x=1');
  const deep = await send(server.port, '/files/docs/deep');
  expect(deep.header('Location')).toBe('/files/docs/deep/');
});

test('a folder with index.html serves it', async () => {
  const res = await send(server.port, '/files/site/');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('text/html; charset=utf-8');
  expect(res.body.toString()).toBe('<!doctype html><title>index</title>');
});

/** Bytes the server process has read through read(2) and friends, from /proc (Linux). */
function bytesRead(pid: number): number {
  const m = /^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'));
  return Number(m![1]);
}

test('HEAD answers the headers of GET without reading the file', async () => {
  const pid = server.process.pid!;
  const before = bytesRead(pid);
  const head = await send(server.port, '/files/big.bin', {}, 'HEAD');
  const afterHead = bytesRead(pid);
  expect(head.status).toBe(200);
  expect(head.header('Content-Length')).toBe(String(64 * 1024 * 1024));
  expect(head.header('ETag')).toMatch(/^"[^"]+"$/);
  expect(head.body.length).toBe(0);
  expect(afterHead - before).toBeLessThan(1024 * 1024);
  // The same measure sees a GET read the file: the counter works.
  const received = await countResponseBytes(server.port, 'GET /files/big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  expect(received).toBeGreaterThan(64 * 1024 * 1024);
  expect(bytesRead(pid) - afterHead).toBeGreaterThanOrEqual(64 * 1024 * 1024);
});

/** Sends `raw` and counts the bytes received until the server closes. */
function countResponseBytes(port: number, raw: string): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const s = net.connect(port, '127.0.0.1', () => s.write(raw));
    s.on('data', (d: Buffer) => (n += d.length));
    s.on('error', reject);
    s.on('close', () => resolve(n));
  });
}

test('HEAD on a persistent connection leaves no stray bytes before the next response', async () => {
  const c = await RawClient.connect(server.port);
  c.send('HEAD /files/page.html HTTP/1.1\r\nHost: x\r\n\r\nGET /files/page.html HTTP/1.1\r\nHost: x\r\n\r\n');
  const h = await c.readResponse({ head: true });
  const g = await c.readResponse();
  expect(h.status).toBe(200);
  expect(g.body.toString()).toBe('<!doctype html><p>hi</p>');
  await c.expectOpenAndQuiet(100);
  c.close();
});

test('curl downloads a nested file byte-identically', async () => {
  const r = await curl([`${base()}/files/docs/deep/er/notes.txt`]);
  expect(r.code).toBe(0);
  expect(r.stdout.toString()).toBe('deep notes\n');
});

test('a file replaced between requests is served fresh (no stale cache)', async () => {
  const p = path.join(dir, 'changing.txt');
  fs.writeFileSync(p, 'one');
  const a = await send(server.port, '/files/changing.txt');
  fs.writeFileSync(p, 'two!');
  const b = await send(server.port, '/files/changing.txt');
  expect(a.body.toString()).toBe('one');
  expect(b.body.toString()).toBe('two!');
  expect(b.header('ETag')).not.toBe(a.header('ETag'));
});
