// --read-only: every write (POST, PUT, DELETE, PATCH, and any method that
// is not safe) is refused with 405 and an Allow that lists only what is
// still on; OPTIONS shows the reduced Allow; reads work as before. With
// --auth as well, login comes first: 401 without credentials, then 405.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type RunningServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { curl } from '../files/support';
import { launch, removeScratch, scratch, tree } from '../uploads/helpers';
import { basic, exchange } from './helpers';

let dir: string;
const servers: RunningServer[] = [];
beforeAll(() => {
  dir = scratch('read-only-');
  writeFileSync(path.join(dir, 'kept.txt'), 'kept');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  removeScratch(dir);
});

async function start(args: string[]): Promise<RunningServer> {
  const s = await launch(['--directory', dir, '--read-only', ...args]);
  servers.push(s);
  return s;
}

function untouched(): void {
  expect(tree(dir)).toEqual(['kept.txt']);
  expect(readFileSync(path.join(dir, 'kept.txt'), 'utf8')).toBe('kept');
}

test('writes get 405 with Allow: GET, HEAD, OPTIONS and a short text body; reads work', async () => {
  const { port } = await start([]);
  const src = path.join(dir, '..', `${path.basename(dir)}-src.txt`);
  writeFileSync(src, 'new content');
  try {
    const put = await curl(['-T', src, '-D', '-', '-o', '/dev/null', `http://127.0.0.1:${port}/files/kept.txt`]);
    const head = put.stdout.toString();
    expect(head).toMatch(/^HTTP\/1\.1 405 Method Not Allowed\r\n/);
    expect(head).toContain('\r\nAllow: GET, HEAD, OPTIONS\r\n');
    for (const method of ['POST', 'DELETE', 'PATCH']) {
      const r = await exchange(port, `${method} /files/kept.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\n`, 'new');
      expect([method, r.status, r.header('allow'), r.header('content-type')]).toEqual([method, 405, 'GET, HEAD, OPTIONS', 'text/plain']);
      expect(r.body.toString()).toBe(`${method} is not allowed: this server is read-only\n`);
    }
  } finally {
    rmSync(src, { force: true });
  }
  const get = await curl([`http://127.0.0.1:${port}/files/kept.txt`]);
  expect(get.stdout.toString()).toBe('kept');
  expect((await exchange(port, 'HEAD /files/kept.txt HTTP/1.1\r\nHost: h\r\n\r\n')).status).toBe(200);
  untouched();
});

test('OPTIONS shows the reduced Allow, on a route and for the server (OPTIONS *)', async () => {
  const { port } = await start([]);
  const route = await exchange(port, 'OPTIONS /files/kept.txt HTTP/1.1\r\nHost: h\r\n\r\n');
  expect([route.status, route.header('allow')]).toEqual([204, 'GET, HEAD, OPTIONS']);
  const server = await exchange(port, 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n');
  expect(server.status).toBe(204);
  expect(server.header('allow')!.split(', ').sort()).toEqual(['GET', 'HEAD', 'OPTIONS']);
  // A 405 from the router itself (TRACE is safe, but no route answers it) is reduced too.
  const trace = await exchange(port, 'TRACE /files/kept.txt HTTP/1.1\r\nHost: h\r\n\r\n');
  expect([trace.status, trace.header('allow')]).toEqual([405, 'GET, HEAD, OPTIONS']);
});

test('an upload with Expect: 100-continue gets 405 instead of 100 Continue and the connection closes', async () => {
  const { port } = await start([]);
  const c = await RawClient.connect(port);
  c.send('PUT /files/kept.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n');
  const r = await c.readResponse();
  expect([r.status, r.header('connection')]).toEqual([405, 'close']);
  await c.expectClosed();
  c.close();
  untouched();
});

test('with --auth too: 401 without credentials, then 405 for a write and 200 for a read with them', async () => {
  const { port } = await start(['--auth', 'alice:pw']);
  const auth = `Authorization: ${basic('alice', 'pw')}\r\n`;
  expect((await exchange(port, 'DELETE /files/kept.txt HTTP/1.1\r\nHost: h\r\n\r\n')).status).toBe(401);
  expect((await exchange(port, `DELETE /files/kept.txt HTTP/1.1\r\nHost: h\r\n${auth}\r\n`)).status).toBe(405);
  expect((await exchange(port, `GET /files/kept.txt HTTP/1.1\r\nHost: h\r\n${auth}\r\n`)).body.toString()).toBe('kept');
  untouched();
});
