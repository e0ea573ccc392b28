// The file cache's freshness guarantee (app/files/file-cache.ts), over real
// sockets: a change on disk, by this server or by another process, is seen
// by the very next request, whether the file was cached or not. Every case
// runs against a server with the default cache and one with --cache-size 0.
// Files are made, then left alone longer than the cache's "racy" window
// (RACY_MS), so the first GET of each case caches it; the change follows.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { RACY_MS } from '../../app/files/file-cache';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { send, tempDir, writeTree } from './support';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes the server process has read with read(2)-like calls so far (/proc/<pid>/io). */
function bytesRead(pid: number): number {
  const m = /^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'latin1'));
  return Number(m![1]);
}

const SIZES: Record<string, string[]> = { cached: [], uncached: ['--cache-size', '0'] };

describe.each(Object.keys(SIZES))('with the cache %s', (mode) => {
  let dir: string;
  let outside: string;
  let server: RunningServer;
  const get = (target: string, headers: Record<string, string> = {}) => send(server.port, target, headers);

  beforeAll(async () => {
    dir = tempDir(`fresh-${mode}`);
    outside = tempDir(`fresh-outside-${mode}`);
    writeTree(dir, {
      'inplace.txt': 'version one\n',
      'renamed.txt': 'old content\n',
      'deleted.txt': 'here today\n',
      'a/swap.txt': 'inside a\n',
      'b/swap.txt': 'inside b\n',
      'moved/secret.txt': 'inside moved\n',
      'coded/app.js': 'console.log("hello from the file");\n'.repeat(40),
      'idx/index.html': '<p>index</p>',
      'idx/other.txt': 'other',
      'big/half.bin': Buffer.alloc(512 * 1024, 7),
    });
    writeTree(outside, { 'swap.txt': 'OUTSIDE\n', 'secret.txt': 'OUTSIDE\n' });
    fs.symlinkSync(path.join(dir, 'a'), path.join(dir, 'link'));
    server = await startServer(['--directory', dir, ...SIZES[mode]!]);
    await sleep(RACY_MS + 200); // everything settles: the first GETs below are cached
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(outside, { recursive: true, force: true });
  });

  test('a file rewritten in place at the same size is seen at once, twice in a row', async () => {
    const file = path.join(dir, 'inplace.txt');
    expect((await get('/files/inplace.txt')).body.toString()).toBe('version one\n');
    expect((await get('/files/inplace.txt')).body.toString()).toBe('version one\n');
    fs.writeFileSync(file, 'version two\n'); // same size, same inode
    const second = await get('/files/inplace.txt');
    expect(second.body.toString()).toBe('version two\n');
    // Again within the same clock tick as the last write: still seen.
    fs.writeFileSync(file, 'version 3!!\n');
    expect((await get('/files/inplace.txt')).body.toString()).toBe('version 3!!\n');
    fs.writeFileSync(file, 'version 4!!\n');
    const fourth = await get('/files/inplace.txt');
    expect(fourth.body.toString()).toBe('version 4!!\n');
    expect(fourth.header('etag')).not.toBe(second.header('etag'));
  });

  test('a file replaced by rename is seen at once, with its own ETag', async () => {
    const first = await get('/files/renamed.txt');
    expect(first.body.toString()).toBe('old content\n');
    fs.writeFileSync(path.join(dir, '.tmp-renamed'), 'new content, longer\n');
    fs.renameSync(path.join(dir, '.tmp-renamed'), path.join(dir, 'renamed.txt'));
    const next = await get('/files/renamed.txt');
    expect(next.body.toString()).toBe('new content, longer\n');
    expect(next.header('content-length')).toBe('20');
    expect(next.header('etag')).not.toBe(first.header('etag'));
  });

  test('a deleted file is 404 at once, and one created where there was none is served at once', async () => {
    expect((await get('/files/deleted.txt')).status).toBe(200);
    fs.unlinkSync(path.join(dir, 'deleted.txt'));
    expect((await get('/files/deleted.txt')).status).toBe(404);
    fs.writeFileSync(path.join(dir, 'deleted.txt'), 'back again\n');
    const back = await get('/files/deleted.txt');
    expect(back.status).toBe(200);
    expect(back.body.toString()).toBe('back again\n');
  });

  test('an upload through this server is seen by the next GET', async () => {
    expect((await get('/files/inplace.txt')).status).toBe(200);
    const c = await RawClient.connect(server.port);
    try {
      c.send('PUT /files/inplace.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 8\r\n\r\nuploaded');
      expect((await c.readResponse()).status).toBe(204);
      c.send('GET /files/inplace.txt HTTP/1.1\r\nHost: x\r\n\r\n');
      expect((await c.readResponse()).body.toString()).toBe('uploaded');
    } finally {
      c.close();
    }
  });

  test('a symlinked folder swapped to point outside becomes 404 at once', async () => {
    expect((await get('/files/link/swap.txt')).body.toString()).toBe('inside a\n');
    fs.unlinkSync(path.join(dir, 'link'));
    fs.symlinkSync(path.join(dir, 'b'), path.join(dir, 'link'));
    expect((await get('/files/link/swap.txt')).body.toString()).toBe('inside b\n');
    fs.unlinkSync(path.join(dir, 'link'));
    fs.symlinkSync(outside, path.join(dir, 'link'));
    expect((await get('/files/link/swap.txt')).status).toBe(404);
  });

  test('a cached folder moved outside and replaced by a symlink to it becomes 404 at once', async () => {
    expect((await get('/files/moved/secret.txt')).body.toString()).toBe('inside moved\n');
    expect((await get('/files/moved/secret.txt')).body.toString()).toBe('inside moved\n');
    // The very same file (same inode, same times) is now reached through a link that leads outside.
    const away = path.join(outside, 'moved-away');
    fs.renameSync(path.join(dir, 'moved'), away);
    fs.symlinkSync(away, path.join(dir, 'moved'));
    expect(fs.readFileSync(path.join(dir, 'moved', 'secret.txt'), 'utf8')).toBe('inside moved\n');
    expect((await get('/files/moved/secret.txt')).status).toBe(404);
  });

  test('a precompressed sibling added, changed or removed is seen at once', async () => {
    const js = path.join(dir, 'coded', 'app.js');
    const source = fs.readFileSync(js);
    const ae = { 'Accept-Encoding': 'gzip' };
    const onTheFly = await get('/files/coded/app.js', ae);
    expect(onTheFly.header('content-encoding')).toBe('gzip');
    expect(zlib.gunzipSync(onTheFly.body)).toEqual(source);
    // A .gz sibling appears: it is sent as is (its own bytes, its own ETag).
    const gz1 = zlib.gzipSync(source, { level: 1 });
    fs.writeFileSync(`${js}.gz`, gz1);
    const sib = await get('/files/coded/app.js', ae);
    expect(sib.body).toEqual(gz1);
    expect(sib.header('etag')).not.toBe(onTheFly.header('etag'));
    const gz9 = zlib.gzipSync(source, { level: 9 });
    fs.writeFileSync(`${js}.gz`, gz9);
    expect((await get('/files/coded/app.js', ae)).body).toEqual(gz9);
    fs.unlinkSync(`${js}.gz`);
    const after = await get('/files/coded/app.js', ae);
    expect(zlib.gunzipSync(after.body)).toEqual(source);
    expect(after.header('etag')).toBe(onTheFly.header('etag'));
  });

  test("a folder's index.html created or removed is seen at once", async () => {
    expect((await get('/files/idx/')).body.toString()).toBe('<p>index</p>');
    fs.unlinkSync(path.join(dir, 'idx', 'index.html'));
    const listing = await get('/files/idx/');
    expect(listing.header('content-type')).toMatch(/^text\/html/);
    expect(listing.body.toString()).toContain('other.txt');
    fs.writeFileSync(path.join(dir, 'idx', 'index.html'), '<p>new index</p>');
    expect((await get('/files/idx/')).body.toString()).toBe('<p>new index</p>');
  });

  test(mode === 'cached' ? 'a settled small file is served from memory: repeated GETs read nothing from disk' : 'without a cache every GET reads the file', async () => {
    const pid = server.process.pid!;
    expect((await get('/files/big/half.bin')).body.length).toBe(512 * 1024);
    const before = bytesRead(pid);
    for (let i = 0; i < 10; i++) expect((await get('/files/big/half.bin')).body.length).toBe(512 * 1024);
    const read = bytesRead(pid) - before;
    // Ten requests are about a kilobyte of socket reads; ten reads of the file would be 5 MiB.
    if (mode === 'cached') expect(read).toBeLessThan(64 * 1024);
    else expect(read).toBeGreaterThanOrEqual(10 * 512 * 1024);
  });

  if (mode === 'cached') {
    test('a file written less than the racy window ago is not kept: each GET reads it again', async () => {
      // File times tick coarsely, so a write in the same tick as our read could leave them equal:
      // such a file is served from disk until its times are older than RACY_MS.
      const pid = server.process.pid!;
      fs.writeFileSync(path.join(dir, 'big', 'fresh.bin'), Buffer.alloc(256 * 1024, 1));
      expect((await get('/files/big/fresh.bin')).status).toBe(200);
      const before = bytesRead(pid);
      for (let i = 0; i < 4; i++) expect((await get('/files/big/fresh.bin')).body.length).toBe(256 * 1024);
      expect(bytesRead(pid) - before).toBeGreaterThanOrEqual(4 * 256 * 1024);
    });
  }
});
