// After MKCOL, MOVE or DELETE, nothing stale is served: the file cache and
// the listing cache (which validate by lstat and by folder identity) see
// the change on the very next request. And a MOVE holds the name locks
// uploads take, so it never interleaves with an upload's check-and-rename.
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { send as sendBody } from '../uploads/helpers';
import { send, tempDir, writeTree } from './support';
import { dav, read, tree } from './webdav-support';

let base: string;
let server: RunningServer;
let url: string;

beforeAll(async () => {
  base = tempDir('webdav-fresh');
  // Same sizes on purpose: a stale entry could not be told apart by size.
  writeTree(base, {
    'a.txt': 'AAAA',
    'x.txt': 'XXXX',
    'y.txt': 'YYYY',
    'dst/keep.txt': 'keep',
    'dir/f.txt': 'DIR1',
    'other/f.txt': 'OTH2',
    'doomed/f.txt': 'gone',
  });
  server = await startServer(['--directory', base]);
  url = `http://127.0.0.1:${server.port}/files/`;
  // Files younger than a second are served but not cached (file-cache.ts, "racy"): let them age so the cache holds them.
  await new Promise((r) => setTimeout(r, 1200));
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(base, { recursive: true, force: true });
});

/** GET of `target` twice (the second from the cache when it holds it); both must agree. */
async function get(target: string): Promise<{ status: number; body: string }> {
  const first = await send(server.port, `/files/${target}`);
  const second = await send(server.port, `/files/${target}`);
  expect([target, second.status, second.body.toString()]).toEqual([target, first.status, first.body.toString()]);
  return { status: first.status, body: first.body.toString() };
}

/** The names a folder's listing links to. */
async function listed(folder: string): Promise<string[]> {
  const res = await send(server.port, `/files/${folder}`);
  expect(res.status).toBe(200);
  return [...res.body.toString().matchAll(/<a href="([^"]+)"/g)].map((m) => decodeURIComponent(m[1]!)).filter((n) => n !== '../').sort();
}

test('GET after MOVE of a file: 404 at the old name, the content at the new; both listings fresh at once', async () => {
  expect(await get('a.txt')).toEqual({ status: 200, body: 'AAAA' });
  expect(await listed('')).toContain('a.txt');
  expect(await listed('dst/')).toEqual(['keep.txt']);
  expect((await dav('MOVE', `${url}a.txt`, { Destination: '/files/dst/b.txt' })).status).toBe(201);
  expect((await get('a.txt')).status).toBe(404);
  expect(await get('dst/b.txt')).toEqual({ status: 200, body: 'AAAA' });
  expect(await listed('')).not.toContain('a.txt');
  expect(await listed('dst/')).toEqual(['b.txt', 'keep.txt']);
});

test('GET after MOVE over a file of the same size: the moved content, not the cached one', async () => {
  expect(await get('y.txt')).toEqual({ status: 200, body: 'YYYY' });
  expect(await get('x.txt')).toEqual({ status: 200, body: 'XXXX' });
  expect((await dav('MOVE', `${url}x.txt`, { Destination: '/files/y.txt' })).status).toBe(204);
  expect(await get('y.txt')).toEqual({ status: 200, body: 'XXXX' });
  expect((await get('x.txt')).status).toBe(404);
});

test('GET after moving folders: the old path is 404, then the folder moved into its place is served', async () => {
  expect(await get('dir/f.txt')).toEqual({ status: 200, body: 'DIR1' });
  expect(await listed('dir/')).toEqual(['f.txt']);
  expect((await dav('MOVE', `${url}dir/`, { Destination: '/files/moved/' })).status).toBe(201);
  expect((await get('dir/f.txt')).status).toBe(404);
  expect((await send(server.port, '/files/dir/')).status).toBe(404);
  expect(await get('moved/f.txt')).toEqual({ status: 200, body: 'DIR1' });
  expect(await listed('')).toEqual(expect.arrayContaining(['moved/']));
  expect(await listed('')).not.toContain('dir/');
  expect((await dav('MOVE', `${url}other/`, { Destination: '/files/dir/' })).status).toBe(201);
  expect(await get('dir/f.txt')).toEqual({ status: 200, body: 'OTH2' });
});

test('GET and listings after DELETE of a folder and after MKCOL', async () => {
  expect(await get('doomed/f.txt')).toEqual({ status: 200, body: 'gone' });
  expect(await listed('')).toContain('doomed/');
  expect((await dav('DELETE', `${url}doomed/`, { Depth: 'infinity' })).status).toBe(204);
  expect((await get('doomed/f.txt')).status).toBe(404);
  expect(await listed('')).not.toContain('doomed/');
  expect((await dav('MKCOL', `${url}doomed/`)).status).toBe(201);
  expect(await listed('')).toContain('doomed/');
  expect(await listed('doomed/')).toEqual([]);
  expect((await get('doomed/f.txt')).status).toBe(404);
});

describe.each([
  ['one process', [] as string[]],
  ['two workers (lock files across processes)', ['--workers', '2']],
])('MOVEs and create-only uploads racing for one name, %s', (_what, extra) => {
  let racing: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = tempDir('webdav-race');
    racing = await startServer(['--directory', dir, ...extra]);
  });
  afterAll(async () => {
    await racing.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('exactly one request creates the name, and it holds that one\'s bytes; the others are 412 and change nothing', async () => {
    const MOVES = 6;
    const PUTS = 2;
    for (let i = 0; i < 15; i++) {
      for (let k = 0; k < MOVES; k++) fs.writeFileSync(path.join(dir, `src${i}-${k}`), `moved ${i}-${k}`);
      const results = await Promise.all([
        ...Array.from({ length: MOVES }, (_, k) => sendBody(racing.port, 'MOVE', `/files/src${i}-${k}`, '', { Destination: `/files/dst${i}`, Overwrite: 'F' })),
        ...Array.from({ length: PUTS }, (_, k) => sendBody(racing.port, 'PUT', `/files/dst${i}`, `put ${i}-${k}`, { 'If-None-Match': '*' })),
      ]);
      const statuses = results.map((r) => r.status);
      expect([i, statuses.filter((s) => s === 201).length, statuses.filter((s) => s === 412).length]).toEqual([i, 1, MOVES + PUTS - 1]);
      const winner = statuses.indexOf(201);
      const expected = winner < MOVES ? `moved ${i}-${winner}` : `put ${i}-${winner - MOVES}`;
      expect([i, read(path.join(dir, `dst${i}`))]).toEqual([i, expected]);
      for (let k = 0; k < MOVES; k++) expect(read(path.join(dir, `src${i}-${k}`))).toBe(k === winner ? null : `moved ${i}-${k}`);
    }
    // No temporary file or lock link is left behind.
    expect(tree(dir).filter((n) => n.startsWith('.'))).toEqual([]);
  }, 60_000);
});
