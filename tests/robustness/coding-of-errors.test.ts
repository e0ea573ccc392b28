// The compression filter against the real server: only a successful
// response with content is content-coded or turned into 406 when the
// client refuses every coding (`Accept-Encoding: identity;q=0`). An error
// keeps its own status and fields (405 with Allow, 415, 501, 404) and is
// sent uncoded whatever the client accepts (RFC 9110 §12.1, §12.5.3).
// Runs under Node and, in the bun project, under Bun.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { type RunningServer, startServer } from '../helpers/server';
import { request } from '../helpers/wire';

let server: RunningServer;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'coding-of-errors-'));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'some text\n');
  server = await startServer(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const REFUSE_ALL = 'Accept-Encoding: identity;q=0, *;q=0\r\n';
const GZIP_ONLY = 'Accept-Encoding: gzip\r\n';

const send = (method: string, target: string, fields: string, content = '') =>
  request(server.port, `${method} ${target} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n${fields}\r\n${content}`);

describe.each([
  ['no coding acceptable', REFUSE_ALL],
  ['gzip accepted', GZIP_ONLY],
])('%s: errors keep their status and are sent uncoded', (_what, acceptEncoding) => {
  test('PATCH on /files/ is 405 with Allow', async () => {
    const res = await send('PATCH', '/files/a.txt', `${acceptEncoding}Content-Length: 0\r\n`);
    expect(res.status).toBe(405);
    expect(res.header('Allow')).toContain('GET');
    expect(res.header('Allow')).toContain('PUT');
    expect(res.header('Content-Encoding')).toBeUndefined();
    expect(res.body.toString()).toContain('PATCH is not allowed');
  });

  test('an unknown method is 501', async () => {
    const res = await send('BREW', '/echo/tea', acceptEncoding);
    expect(res.status).toBe(501);
    expect(res.header('Content-Encoding')).toBeUndefined();
    expect(res.body.toString()).toContain('BREW');
  });

  test('a gzip-coded upload is 415 with Accept-Encoding: identity', async () => {
    const content = gzipSync('hello');
    const res = await send('POST', '/files/up.txt', `${acceptEncoding}Content-Encoding: gzip\r\nContent-Length: ${content.length}\r\n`, content.toString('latin1'));
    expect(res.status).toBe(415);
    expect(res.header('Accept-Encoding')).toBe('identity');
    expect(res.header('Content-Encoding')).toBeUndefined();
    expect(fs.existsSync(path.join(dir, 'up.txt'))).toBe(false);
  });

  test('a missing file is 404', async () => {
    const res = await send('GET', '/files/missing.txt', acceptEncoding);
    expect(res.status).toBe(404);
    expect(res.header('Content-Encoding')).toBeUndefined();
  });
});

describe('successful responses are still negotiated', () => {
  test('an echo is 406 when no coding is acceptable', async () => {
    const res = await send('GET', '/echo/abc', REFUSE_ALL);
    expect(res.status).toBe(406);
    expect(res.header('Vary')).toBe('Accept-Encoding');
  });

  test('a file is 406 when no coding is acceptable (the file handler negotiates)', async () => {
    const res = await send('GET', '/files/a.txt', REFUSE_ALL);
    expect(res.status).toBe(406);
    expect(res.header('Vary')).toBe('Accept-Encoding');
  });

  test('an echo is gzipped when gzip is accepted', async () => {
    const res = await send('GET', '/echo/abc', GZIP_ONLY);
    expect(res.status).toBe(200);
    expect(res.header('Content-Encoding')).toBe('gzip');
  });
});
