// The 14 stages of the challenge over HTTPS (--tls-cert/--tls-key): the
// requests tests/stages makes, sent on TLS connections that trust the
// server's certificate alone, get the same answers. Runs under Node and,
// in the bun jest project, against `bun run app/main.ts`.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Launched } from '../ops/helpers';
import { type CertFiles, makeCert, removeScratch, scratch, startTls, tlsClient } from './helpers';

let dir: string;
let files: string;
let cert: CertFiles;
let server: Launched & { tlsPort: number };
beforeAll(async () => {
  dir = scratch('tls-stages-');
  files = scratch('tls-stages-files-');
  cert = makeCert(dir, 'server');
  server = await startTls(['--tls-cert', cert.cert, '--tls-key', cert.key, '--directory', files]);
});
afterAll(async () => {
  await server?.stop();
  removeScratch(dir);
  removeScratch(files);
});

const connect = () => tlsClient(server.tlsPort, cert.pem);

async function get(target: string, fields = ''): ReturnType<Awaited<ReturnType<typeof connect>>['readResponse']> {
  const c = await connect();
  try {
    c.send(`GET ${target} HTTP/1.1\r\nHost: localhost:4221\r\n${fields}\r\n`);
    return await c.readResponse();
  } finally {
    c.close();
  }
}

test('at4 bind to port: a TLS handshake completes with the certificate given, ALPN http/1.1', async () => {
  const c = await connect();
  expect(c.socket.authorized).toBe(true);
  expect(c.socket.alpnProtocol).toBe('http/1.1');
  expect(c.socket.getPeerX509Certificate()!.fingerprint256).toBe(cert.fingerprint);
  c.close();
});

test('ia4 respond with 200: GET / is 200 OK with no content', async () => {
  const res = await get('/');
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.body.length).toBe(0);
});

test('ih0 extract URL path: an unknown path is 404 Not Found', async () => {
  const res = await get('/strawberry/orange');
  expect(res.statusLine).toBe('HTTP/1.1 404 Not Found');
});

test('cn2 respond with body: /echo/abc is 200, text/plain, Content-Length 3, abc', async () => {
  const res = await get('/echo/abc');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('text/plain');
  expect(res.header('Content-Length')).toBe('3');
  expect(res.body.toString()).toBe('abc');
});

test('fs3 read header: /user-agent answers the User-Agent field value', async () => {
  const res = await get('/user-agent', 'User-Agent: grape/blueberry-mango\r\n');
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('grape/blueberry-mango');
});

test('ej5 concurrent connections: three connections opened first, answered in any order', async () => {
  const conns = await Promise.all([0, 1, 2].map(() => connect()));
  for (const [i, c] of [...conns.entries()].reverse()) c.send(`GET /echo/c${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  const bodies = await Promise.all(conns.map(async (c) => (await c.readResponse()).body.toString()));
  expect(bodies).toEqual(['c0', 'c1', 'c2']);
  for (const c of conns) c.close();
});

test('ap6 return a file: GET /files/{name} is the exact bytes as application/octet-stream; a missing one is 404', async () => {
  writeFileSync(path.join(files, 'apple.bin'), Buffer.from([0, 1, 2, 255, 13, 10]));
  const res = await get('/files/apple.bin');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('application/octet-stream');
  expect(res.body).toEqual(Buffer.from([0, 1, 2, 255, 13, 10]));
  expect((await get('/files/no-such-file')).status).toBe(404);
});

test('qv8 read request body: POST /files/{name} is 201 Created and the file holds the content', async () => {
  const c = await connect();
  c.send('POST /files/posted.txt HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\nContent-Length: 12\r\n\r\nhello, world');
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 201 Created');
  expect(readFileSync(path.join(files, 'posted.txt'), 'utf8')).toBe('hello, world');
  c.close();
});

test('df4 compression headers: gzip is chosen, an unknown coding is not', async () => {
  expect((await get('/echo/abc', 'Accept-Encoding: gzip\r\n')).header('Content-Encoding')).toBe('gzip');
  expect((await get('/echo/abc', 'Accept-Encoding: invalid-encoding\r\n')).header('Content-Encoding')).toBeUndefined();
});

test('ij8 multiple compression schemes: gzip is found in a list of unknown ones', async () => {
  const res = await get('/echo/abc', 'Accept-Encoding: invalid-encoding-1, gzip, invalid-encoding-2\r\n');
  expect(res.header('Content-Encoding')).toBe('gzip');
});

test('cr8 gzip compression: the content is a gzip member of Content-Length bytes that gunzips to the string', async () => {
  const res = await get('/echo/pineapple', 'Accept-Encoding: gzip\r\n');
  expect(res.header('Content-Encoding')).toBe('gzip');
  expect(Number(res.header('Content-Length'))).toBe(res.body.length);
  expect(gunzipSync(res.body).toString()).toBe('pineapple');
});

test('ag9 persistent connections: requests in a row and pipelined on one connection, which stays open', async () => {
  const c = await connect();
  c.send('GET /echo/one HTTP/1.1\r\nHost: localhost\r\n\r\n');
  expect((await c.readResponse()).body.toString()).toBe('one');
  await c.expectOpenAndQuiet(30);
  c.send('GET /echo/two HTTP/1.1\r\nHost: localhost\r\n\r\nGET /user-agent HTTP/1.1\r\nHost: localhost\r\nUser-Agent: three\r\n\r\n');
  expect((await c.readResponse()).body.toString()).toBe('two');
  expect((await c.readResponse()).body.toString()).toBe('three');
  await c.expectOpenAndQuiet(30);
  c.close();
});

test('ul1 concurrent persistent connections: each of several connections serves several requests', async () => {
  const conns = await Promise.all([0, 1, 2, 3].map(() => connect()));
  for (let round = 0; round < 3; round++) {
    for (const [i, c] of conns.entries()) c.send(`GET /echo/r${round}c${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const bodies = await Promise.all(conns.map(async (c) => (await c.readResponse()).body.toString()));
    expect(bodies).toEqual(conns.map((_, i) => `r${round}c${i}`));
  }
  for (const c of conns) c.close();
});

test('kh7 connection closure: a request, then one with Connection: close, answered with Connection: close and closed', async () => {
  const c = await connect();
  c.send('GET /echo/first HTTP/1.1\r\nHost: localhost\r\n\r\n');
  expect((await c.readResponse()).header('Connection')).toBeUndefined();
  c.send('GET /user-agent HTTP/1.1\r\nHost: localhost\r\nUser-Agent: closer\r\nConnection: close\r\n\r\n');
  const res = await c.readResponse();
  expect(res.header('Connection')).toBe('close');
  expect(res.body.toString()).toBe('closer');
  await c.expectClosed();
  c.close();
});
