// Stage cr8 "Gzip compression": the body is really gzip-coded and
// Content-Length counts the compressed bytes; the client gunzips it back.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';

let dir: string;
let server: RunningServer;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cr8-'));
  server = await startServer(['--directory', `${dir}/`]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function gzipGet(target: string, method = 'GET'): Promise<WireResponse> {
  const c = await RawClient.connect(server.port);
  c.send(`${method} ${target} HTTP/1.1\r\nHost: localhost:4221\r\nAccept-Encoding: gzip\r\n\r\n`);
  const res = await c.readResponse({ head: method === 'HEAD' });
  await c.expectOpenAndQuiet(50);
  c.close();
  return res;
}

test('GET /echo/{str} with gzip: a gzip member whose length is Content-Length and which gunzips to the string', async () => {
  const res = await gzipGet('/echo/pineapple');
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('text/plain');
  expect(res.header('Content-Encoding')).toBe('gzip');
  expect(res.header('Content-Length')).toBe(String(res.body.length));
  expect([...res.body.subarray(0, 3)]).toEqual([0x1f, 0x8b, 0x08]); // gzip magic, deflate method (RFC 1952)
  expect(gunzipSync(res.body).toString()).toBe('pineapple');
  expect(res.body.toString('latin1')).not.toContain('pineapple');
});

test('a tiny string grows (gzip has an 18-byte frame) and an empty one is still a valid gzip member', async () => {
  const tiny = await gzipGet('/echo/a');
  expect(tiny.body.length).toBeGreaterThan(1);
  expect(gunzipSync(tiny.body).toString()).toBe('a');
  const empty = await gzipGet('/echo/');
  expect(empty.header('Content-Encoding')).toBe('gzip');
  expect(Number(empty.header('Content-Length'))).toBe(empty.body.length);
  expect(gunzipSync(empty.body).length).toBe(0);
});

test('a long repetitive string shrinks and round-trips, UTF-8 included', async () => {
  const s = 'blueberry \u2603 '.repeat(250); // 6000 bytes encoded: under the 8 KiB target limit
  const res = await gzipGet(`/echo/${encodeURIComponent(s)}`);
  expect(res.header('Content-Encoding')).toBe('gzip');
  expect(res.body.length).toBeLessThan(Buffer.byteLength(s) / 10);
  expect(gunzipSync(res.body).toString('utf8')).toBe(s);
});

test('HEAD gives the same Content-Length as the coded GET, and no content', async () => {
  const get = await gzipGet('/echo/raspberry');
  const head = await gzipGet('/echo/raspberry', 'HEAD');
  expect(head.status).toBe(200);
  expect(head.header('Content-Encoding')).toBe('gzip');
  expect(head.header('Content-Length')).toBe(get.header('Content-Length'));
});

test('pipelined gzip requests on one connection each get their own framed, decodable body', async () => {
  const words = ['apple', 'banana', 'cherry', 'damson'];
  const c = await RawClient.connect(server.port);
  c.send(words.map((w) => `GET /echo/${w} HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n`).join(''));
  for (const w of words) {
    const res = await c.readResponse();
    expect(res.header('Content-Encoding')).toBe('gzip');
    expect(gunzipSync(res.body).toString()).toBe(w);
  }
  await c.expectOpenAndQuiet();
  c.close();
});

test('a file (application/octet-stream) is sent as is even when gzip is accepted: exact bytes, no Content-Encoding', async () => {
  const content = randomBytes(4096);
  fs.writeFileSync(path.join(dir, 'blob'), content);
  const res = await gzipGet('/files/blob');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('application/octet-stream');
  expect(res.header('Content-Encoding')).toBeUndefined();
  expect(res.header('Content-Length')).toBe('4096');
  expect(res.body.equals(content)).toBe(true);
});
