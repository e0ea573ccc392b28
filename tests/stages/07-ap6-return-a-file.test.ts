// Stage ap6 "Return a file": with `--directory D/`, GET /files/{name}
// answers the file's exact bytes as application/octet-stream, a missing
// file is 404, and no spelling of a name reads anything outside D.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';

const SECRET = 'TOP-SECRET-OUTSIDE-THE-DIRECTORY';
let base: string;
let dir: string;
let server: RunningServer;

beforeAll(async () => {
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'ap6-'));
  dir = path.join(base, 'served');
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(base, 'secret.txt'), SECRET);
  server = await startServer(['--directory', `${dir}/`]); // absolute, trailing slash: as the tester passes it
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(base, { recursive: true, force: true });
});

async function get(target: string, extra = ''): Promise<WireResponse> {
  const c = await RawClient.connect(server.port);
  c.send(`GET ${target} HTTP/1.1\r\nHost: localhost:4221\r\n${extra}\r\n`);
  const res = await c.readResponse();
  c.close();
  return res;
}

test('an existing file comes back byte-exact as application/octet-stream; a missing one is 404', async () => {
  const content = `apple banana ${randomBytes(8).toString('hex')}`;
  fs.writeFileSync(path.join(dir, 'fruit_42'), content); // written after start: nothing is cached
  const c = await RawClient.connect(server.port);
  c.send('GET /files/fruit_42 HTTP/1.1\r\nHost: localhost:4221\r\n\r\n');
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('application/octet-stream');
  expect(res.header('Content-Length')).toBe(String(Buffer.byteLength(content)));
  expect(res.body.toString()).toBe(content);
  // Uploaded content is sandboxed and never sniffed (README "Browsers"); the tester's checks above still hold.
  expect(res.header('Content-Security-Policy')).toBe('sandbox');
  expect(res.header('X-Content-Type-Options')).toBe('nosniff');
  await c.expectOpenAndQuiet(50);
  c.send('GET /files/non_existent_file HTTP/1.1\r\nHost: localhost:4221\r\n\r\n');
  const missing = await c.readResponse();
  expect(missing.statusLine).toBe('HTTP/1.1 404 Not Found');
  expect(missing.header('Content-Length')).toBe('0');
  expect(missing.header('Content-Security-Policy')).toBe('sandbox');
  expect(missing.header('X-Content-Type-Options')).toBe('nosniff');
  await c.expectOpenAndQuiet();
  c.close();
});

test('binary content (every byte value, CRLFs, a fake response inside) is sent unaltered', async () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const content = Buffer.concat([all, Buffer.from('\r\n\r\nHTTP/1.1 200 OK\r\n\r\n'), all.reverse()]);
  fs.writeFileSync(path.join(dir, 'bytes.bin'), content);
  const res = await get('/files/bytes.bin');
  expect(res.status).toBe(200);
  expect(res.header('Content-Length')).toBe(String(content.length));
  expect(res.body.equals(content)).toBe(true);
});

test('an empty file is 200 with Content-Length: 0', async () => {
  fs.writeFileSync(path.join(dir, 'empty'), '');
  const res = await get('/files/empty');
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Length')).toBe('0');
  expect(res.body.length).toBe(0);
});

test('a 3 MiB file arrives whole and exact, then the connection serves the next request', async () => {
  const content = randomBytes(3 * 1024 * 1024);
  fs.writeFileSync(path.join(dir, 'big.bin'), content);
  const c = await RawClient.connect(server.port);
  c.send('GET /files/big.bin HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const res = await c.readResponse({ timeoutMs: 20_000 });
  expect(res.header('Content-Length')).toBe(String(content.length));
  expect(res.body.equals(content)).toBe(true);
  c.send('GET /files/missing HTTP/1.1\r\nHost: localhost\r\n\r\n');
  expect((await c.readResponse()).status).toBe(404);
  await c.expectOpenAndQuiet(50);
  c.close();
});

test('names are percent-decoded once; files in subdirectories are served', async () => {
  fs.writeFileSync(path.join(dir, 'hello world.txt'), 'spaced');
  fs.writeFileSync(path.join(dir, 'sub', 'inner.txt'), 'inner');
  fs.writeFileSync(path.join(dir, '%41'), 'literal percent');
  expect((await get('/files/hello%20world.txt')).body.toString()).toBe('spaced');
  expect((await get('/files/sub/inner.txt')).body.toString()).toBe('inner');
  expect((await get('/files/%2541')).body.toString()).toBe('literal percent');
});

test('HEAD gives the file\'s Content-Length and no content', async () => {
  fs.writeFileSync(path.join(dir, 'head.txt'), '12345678');
  const c = await RawClient.connect(server.port);
  c.send('HEAD /files/head.txt HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const res = await c.readResponse({ head: true });
  expect(res.status).toBe(200);
  expect(res.header('Content-Length')).toBe('8');
  await c.expectOpenAndQuiet(100);
  c.close();
});

describe('no spelling of a name reads outside the directory', () => {
  test.each([
    '/files/../secret.txt',
    '/files/%2e%2e/secret.txt',
    '/files/%2E%2E/secret.txt',
    '/files/.%2e/secret.txt',
    '/files/..%2fsecret.txt',
    '/files/..%2Fsecret.txt',
    '/files/%2e%2e%2fsecret.txt',
    '/files/sub/../../secret.txt',
    '/files/sub/%2e%2e/%2e%2e/secret.txt',
    '/files/..\\secret.txt',
    '/files/..%5csecret.txt',
    '/files/..%5Csecret.txt',
    '/files/sub%5c..%5c..%5csecret.txt',
    '/files/..%00/secret.txt',
    '/files/secret.txt%00',
    '/files/%00',
    `/files/%2f${encodeURIComponent(path.join('x'))}`,
    'http://localhost/files/../secret.txt',
  ])('GET %s is refused and never shows the file', async (target) => {
    const res = await get(target);
    expect([400, 404]).toContain(res.status);
    expect(res.body.toString('latin1')).not.toContain(SECRET);
  });

  test('an absolute path after /files/ stays inside the directory', async () => {
    const abs = path.join(base, 'secret.txt'); // e.g. /tmp/ap6-xyz/secret.txt
    for (const target of [`/files/${abs}`, `/files/${encodeURIComponent(abs)}`, `/files/${abs.replace(/\//g, '%2F')}`]) {
      const res = await get(target);
      expect([400, 404]).toContain(res.status);
      expect(res.body.toString('latin1')).not.toContain(SECRET);
    }
  });
});

test('without --directory every /files/ name is 404, even of files that exist', async () => {
  const plain = await startServer();
  try {
    for (const target of ['/files/package.json', '/files/fruit_42', `/files/${encodeURIComponent(path.join(dir, 'fruit_42'))}`]) {
      const c = await RawClient.connect(plain.port);
      c.send(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      const res = await c.readResponse();
      expect(res.statusLine).toBe('HTTP/1.1 404 Not Found');
      expect(res.header('Content-Length')).toBe('0');
      c.close();
    }
  } finally {
    await plain.stop();
  }
});
