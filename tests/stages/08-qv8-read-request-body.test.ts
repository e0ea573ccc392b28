// Stage qv8 "Read request body": with `--directory D/`, POST /files/{name}
// answers 201 Created and D/{name} then holds exactly the request content,
// whatever its bytes, size, framing or TCP segmentation; no spelling of a
// name writes outside D.
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
  base = fs.mkdtempSync(path.join(os.tmpdir(), 'qv8-'));
  dir = path.join(base, 'served');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(base, 'secret.txt'), SECRET);
  server = await startServer(['--directory', `${dir}/`]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(base, { recursive: true, force: true });
});

function postHead(name: string, length: number, extra = ''): string {
  return `POST /files/${name} HTTP/1.1\r\nHost: localhost:4221\r\nContent-Type: application/octet-stream\r\nContent-Length: ${length}\r\n${extra}\r\n`;
}

async function post(name: string, body: Buffer | string): Promise<WireResponse> {
  const bytes = Buffer.from(body);
  const c = await RawClient.connect(server.port);
  c.send(Buffer.concat([Buffer.from(postHead(name, bytes.length), 'latin1'), bytes]));
  const res = await c.readResponse();
  await c.expectOpenAndQuiet(20);
  c.close();
  return res;
}

/** Names in `folder` other than finished files: temporaries left behind. */
function leftovers(folder: string): string[] {
  return fs.readdirSync(folder).filter((n) => n.startsWith('.') || n.endsWith('.partial'));
}

test('POST stores the exact body and answers 201 Created with Content-Length: 0, keeping the connection', async () => {
  const body = `mango pear apple ${randomBytes(6).toString('hex')}`;
  const c = await RawClient.connect(server.port);
  c.send(postHead('fruit_77', Buffer.byteLength(body)) + body);
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 201 Created');
  expect(res.header('Content-Length')).toBe('0');
  expect(res.body.length).toBe(0);
  // Every /files/ response carries the sandbox and nosniff (README "Browsers"); the tester's checks above still hold.
  expect(res.header('Content-Security-Policy')).toBe('sandbox');
  expect(res.header('X-Content-Type-Options')).toBe('nosniff');
  await c.expectOpenAndQuiet();
  expect(fs.readFileSync(path.join(dir, 'fruit_77'), 'latin1')).toBe(body);
  // The same bytes come back from GET on the same connection.
  c.send('GET /files/fruit_77 HTTP/1.1\r\nHost: localhost:4221\r\n\r\n');
  const back = await c.readResponse();
  expect(back.status).toBe(200);
  expect(back.header('Content-Type')).toBe('application/octet-stream');
  expect(back.header('Content-Length')).toBe(String(Buffer.byteLength(body)));
  expect(back.header('Content-Security-Policy')).toBe('sandbox');
  expect(back.body.toString('latin1')).toBe(body);
  await c.expectOpenAndQuiet(50);
  c.close();
});

test('binary content (every byte value, CRLFs, a request-looking tail) is stored unaltered', async () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const body = Buffer.concat([all, Buffer.from('\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n'), all]);
  expect((await post('bytes.bin', body)).status).toBe(201);
  expect(fs.readFileSync(path.join(dir, 'bytes.bin')).equals(body)).toBe(true);
});

test('a body split across many TCP segments, the head too, is stored whole', async () => {
  const body = randomBytes(5000);
  const wire = Buffer.concat([Buffer.from(postHead('segmented.bin', body.length), 'latin1'), body]);
  const c = await RawClient.connect(server.port);
  c.socket.setNoDelay(true);
  let sent = 0;
  for (const cut of [7, 40, 95, 150, 1000, 3000, wire.length]) {
    c.send(wire.subarray(sent, cut));
    sent = cut;
    await new Promise((r) => setTimeout(r, 15));
  }
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 201 Created');
  expect(fs.readFileSync(path.join(dir, 'segmented.bin')).equals(body)).toBe(true);
  c.close();
});

test('a 4 MiB upload is stored exactly and no temporary file remains', async () => {
  const body = randomBytes(4 * 1024 * 1024);
  const c = await RawClient.connect(server.port);
  c.send(postHead('big.bin', body.length));
  c.send(body);
  const res = await c.readResponse({ timeoutMs: 20_000 });
  expect(res.status).toBe(201);
  expect(fs.readFileSync(path.join(dir, 'big.bin')).equals(body)).toBe(true);
  expect(leftovers(dir)).toEqual([]);
  c.close();
});

test('an empty body creates an empty file', async () => {
  expect((await post('empty', '')).status).toBe(201);
  expect(fs.statSync(path.join(dir, 'empty')).size).toBe(0);
});

test('posting to an existing name replaces it entirely (a shorter body leaves no old tail)', async () => {
  expect((await post('replace.txt', 'a long original content')).status).toBe(201);
  expect((await post('replace.txt', 'short')).status).toBe(201);
  expect(fs.readFileSync(path.join(dir, 'replace.txt'), 'latin1')).toBe('short');
});

test('chunked content with extensions and a trailer is stored de-chunked', async () => {
  const c = await RawClient.connect(server.port);
  c.send(
    'POST /files/chunked.txt HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Checksum: abc\r\n\r\n',
  );
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 201 Created');
  expect(fs.readFileSync(path.join(dir, 'chunked.txt'), 'latin1')).toBe('hello 0123456789');
  await c.expectOpenAndQuiet(50);
  c.close();
});

test('Expect: 100-continue gets "100 Continue" before the body is sent, then 201', async () => {
  const c = await RawClient.connect(server.port);
  c.send(postHead('continued.txt', 4, 'Expect: 100-continue\r\n'));
  const interim = await c.readResponse();
  expect(interim.rawHead).toBe('HTTP/1.1 100 Continue\r\n\r\n');
  c.send('data');
  expect((await c.readResponse()).statusLine).toBe('HTTP/1.1 201 Created');
  expect(fs.readFileSync(path.join(dir, 'continued.txt'), 'latin1')).toBe('data');
  c.close();
});

test('a client that disconnects mid-upload leaves the previous file intact and no temporary file', async () => {
  fs.writeFileSync(path.join(dir, 'keep.txt'), 'previous');
  const c = await RawClient.connect(server.port);
  c.send(postHead('keep.txt', 1000) + 'partial data');
  await new Promise((r) => setTimeout(r, 100));
  c.close();
  // The server notices the close asynchronously: give it up to 3 s.
  const deadline = Date.now() + 3000;
  while (leftovers(dir).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  expect(leftovers(dir)).toEqual([]);
  expect(fs.readFileSync(path.join(dir, 'keep.txt'), 'latin1')).toBe('previous');
  // And the server goes on.
  expect((await post('after.txt', 'ok')).status).toBe(201);
});

describe('no spelling of a name writes outside the directory', () => {
  const outsideBefore = () => fs.readdirSync(base).sort();

  test.each([
    '../secret.txt',
    '../evil.txt',
    '%2e%2e/evil.txt',
    '%2E%2E/secret.txt',
    '..%2fevil.txt',
    '..%2Fsecret.txt',
    '%2e%2e%2fevil.txt',
    'sub/../../evil.txt',
    'sub/%2e%2e/%2e%2e/evil.txt',
    '..\\evil.txt',
    '..%5cevil.txt',
    '..%5Csecret.txt',
    'evil.txt%00',
    '..%00/evil.txt',
    '%00',
  ])('POST /files/%s is refused and changes nothing outside', async (name) => {
    const before = outsideBefore();
    const c = await RawClient.connect(server.port);
    c.send(postHead(name, 5) + 'PWNED');
    const res = await c.readResponse();
    c.close();
    expect([400, 403, 404]).toContain(res.status);
    expect(fs.readdirSync(base).sort()).toEqual(before);
    expect(fs.readFileSync(path.join(base, 'secret.txt'), 'latin1')).toBe(SECRET);
    expect(fs.existsSync(path.join(base, 'evil.txt'))).toBe(false);
    expect(fs.existsSync(path.join(path.dirname(base), 'evil.txt'))).toBe(false);
  });

  test('an absolute path after /files/ is stored inside the directory, if at all', async () => {
    const target = path.join(base, 'evil.txt');
    const res = await post(encodeURIComponent(target), 'PWNED');
    expect([201, 400, 403, 404]).toContain(res.status);
    expect(fs.existsSync(target)).toBe(false);
  });
});

test('without --directory POST /files/{name} is 404 and the unread body does not disturb the next request', async () => {
  const plain = await startServer();
  try {
    const c = await RawClient.connect(plain.port);
    const smuggled = 'GET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
    c.send(postHead('x', smuggled.length) + smuggled);
    const res = await c.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 404 Not Found');
    c.send('GET /echo/next HTTP/1.1\r\nHost: x\r\n\r\n');
    const next = await c.readResponse();
    expect(next.body.toString()).toBe('next');
    await c.expectOpenAndQuiet(100);
    c.close();
  } finally {
    await plain.stop();
  }
});
