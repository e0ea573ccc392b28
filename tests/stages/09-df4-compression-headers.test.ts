// Stage df4 "Compression headers": `Accept-Encoding: gzip` gets
// `Content-Encoding: gzip`; an encoding the server does not support gets
// no Content-Encoding header at all, and the plain body.
import { gunzipSync } from 'node:zlib';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

async function get(target: string, fieldLines: string): Promise<WireResponse> {
  const c = await RawClient.connect(server.port);
  c.send(`GET ${target} HTTP/1.1\r\nHost: localhost:4221\r\n${fieldLines}\r\n`);
  const res = await c.readResponse();
  await c.expectOpenAndQuiet(50);
  c.close();
  return res;
}

test('Accept-Encoding: gzip → 200, text/plain, Content-Encoding: gzip, Vary: Accept-Encoding', async () => {
  const res = await get('/echo/orange', 'Accept-Encoding: gzip\r\n');
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('text/plain');
  expect(res.header('Content-Encoding')).toBe('gzip');
  expect(res.header('Vary')).toBe('Accept-Encoding');
  expect(res.header('Content-Length')).toBe(String(res.body.length));
  expect(gunzipSync(res.body).toString()).toBe('orange');
});

test('Accept-Encoding: invalid-encoding → no Content-Encoding header, the plain body', async () => {
  const res = await get('/echo/orange', 'Accept-Encoding: invalid-encoding\r\n');
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('text/plain');
  expect(res.fieldLines.map(([k]) => k.toLowerCase())).not.toContain('content-encoding');
  expect(res.header('Content-Length')).toBe('6');
  expect(res.body.toString()).toBe('orange');
});

test.each([
  ['no Accept-Encoding', ''],
  ['an empty Accept-Encoding (identity only)', 'Accept-Encoding:\r\n'],
  ['Accept-Encoding: identity', 'Accept-Encoding: identity\r\n'],
])('%s → no Content-Encoding, the plain body', async (_what, fieldLines) => {
  const res = await get('/echo/kiwi', fieldLines);
  expect(res.status).toBe(200);
  expect(res.header('Content-Encoding')).toBeUndefined();
  expect(res.body.toString()).toBe('kiwi');
});

test('/user-agent is text/plain too and is gzipped when asked', async () => {
  const res = await get('/user-agent', 'User-Agent: pear/1.0\r\nAccept-Encoding: gzip\r\n');
  expect(res.header('Content-Encoding')).toBe('gzip');
  expect(gunzipSync(res.body).toString()).toBe('pear/1.0');
});

test('responses without content (GET /, 404) carry no Content-Encoding even when gzip is accepted', async () => {
  for (const target of ['/', '/missing']) {
    const res = await get(target, 'Accept-Encoding: gzip\r\n');
    expect(res.header('Content-Encoding')).toBeUndefined();
    expect(res.header('Content-Length')).toBe('0');
  }
});

test('gzip then invalid-encoding on one connection: each answered by its own header', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET /echo/abc HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: gzip\r\n\r\n');
  expect((await c.readResponse()).header('Content-Encoding')).toBe('gzip');
  c.send('GET /echo/abc HTTP/1.1\r\nHost: localhost\r\nAccept-Encoding: invalid-encoding\r\n\r\n');
  const plain = await c.readResponse();
  expect(plain.header('Content-Encoding')).toBeUndefined();
  expect(plain.body.toString()).toBe('abc');
  await c.expectOpenAndQuiet(50);
  c.close();
});
