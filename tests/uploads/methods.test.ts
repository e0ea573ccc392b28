// Uploads under /files/: POST (stage qv8), PUT 201/204, DELETE 204/404,
// nested folders, preconditions (RFC 9110 §13.1.1, §13.1.2), Expect:
// 100-continue, chunked content. Run against the server under Node and Bun.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningServer, Runtime } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { chunked, contents, launch, partials, removeScratch, scratch, send, tree } from './helpers';

describe.each<Runtime>(['node', 'bun'])('uploads under %s', (rt) => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = scratch();
    server = await launch(['--directory', dir], { rt });
  });
  afterAll(async () => {
    await server.stop();
    removeScratch(dir);
  });
  afterEach(() => expect(partials(dir)).toEqual([]));

  test('POST stores the exact bytes and answers 201 Created (stage qv8)', async () => {
    const body = Buffer.from([0, 1, 2, 255, 13, 10, 13, 10, 0x80, 0x41]);
    const res = await send(server.port, 'POST', '/files/stage.bin', body, { 'Content-Type': 'application/octet-stream' });
    expect(res.statusLine).toBe('HTTP/1.1 201 Created');
    expect(res.header('Content-Length')).toBe('0');
    expect(contents(path.join(dir, 'stage.bin'))).toEqual(body);
  });

  test('PUT answers 201 when it creates the file and 204 when it replaces it', async () => {
    const first = await send(server.port, 'PUT', '/files/put.txt', 'first version');
    expect(first.status).toBe(201);
    expect(first.header('ETag')).toMatch(/^"[^"]+"$/);
    expect(readFileSync(path.join(dir, 'put.txt'), 'utf8')).toBe('first version');
    const second = await send(server.port, 'PUT', '/files/put.txt', 'v2');
    expect(second.statusLine).toBe('HTTP/1.1 204 No Content');
    expect(second.header('ETag')).not.toBe(first.header('ETag'));
    expect(readFileSync(path.join(dir, 'put.txt'), 'utf8')).toBe('v2');
  });

  test('an empty body makes an empty file', async () => {
    writeFileSync(path.join(dir, 'empty.txt'), 'not empty yet');
    expect((await send(server.port, 'PUT', '/files/empty.txt', '')).status).toBe(204);
    expect(contents(path.join(dir, 'empty.txt'))).toEqual(Buffer.alloc(0));
  });

  test('chunked content is stored de-chunked', async () => {
    const body = Buffer.from('abcdefghij'.repeat(5000));
    const res = await send(server.port, 'PUT', '/files/chunked.txt', chunked(body, 777), { 'Transfer-Encoding': 'chunked' });
    expect(res.status).toBe(201);
    expect(contents(path.join(dir, 'chunked.txt'))).toEqual(body);
  });

  test('missing parent folders are created; a percent-encoded name is decoded once', async () => {
    const res = await send(server.port, 'PUT', '/files/new/deeper/caf%C3%A9%2520.txt', 'nested');
    expect(res.status).toBe(201);
    expect(readFileSync(path.join(dir, 'new', 'deeper', 'café%20.txt'), 'utf8')).toBe('nested');
  });

  test('a parent that is a file is 409 Conflict and nothing is created', async () => {
    writeFileSync(path.join(dir, 'plain'), 'x');
    const before = tree(dir);
    const res = await send(server.port, 'PUT', '/files/plain/child.txt', 'y');
    expect(res.status).toBe(409);
    expect(tree(dir)).toEqual(before);
  });

  test('a folder cannot be replaced by an upload (405 with Allow), nor deleted with its contents unless asked (409)', async () => {
    mkdirSync(path.join(dir, 'folder'), { recursive: true });
    writeFileSync(path.join(dir, 'folder', 'inside.txt'), 'keep');
    for (const [method, target] of [
      ['PUT', '/files/folder'],
      ['PUT', '/files/folder/'],
      ['POST', '/files/folder'],
    ] as const) {
      const res = await send(server.port, method, target, 'data');
      expect([method, target, res.status]).toEqual([method, target, 405]);
      expect(res.header('Allow')).toContain('GET');
    }
    // A non-empty folder goes only with an explicit Depth: infinity (the WebDAV tests cover that).
    for (const target of ['/files/folder', '/files/folder/']) {
      const res = await send(server.port, 'DELETE', target);
      expect([target, res.status]).toEqual([target, 409]);
      expect(res.body.toString()).toContain('Depth: infinity');
    }
    expect(readFileSync(path.join(dir, 'folder', 'inside.txt'), 'utf8')).toBe('keep');
  });

  test('DELETE answers 204 and removes the file, then 404', async () => {
    writeFileSync(path.join(dir, 'doomed.txt'), 'bye');
    const res = await send(server.port, 'DELETE', '/files/doomed.txt');
    expect(res.statusLine).toBe('HTTP/1.1 204 No Content');
    expect(contents(path.join(dir, 'doomed.txt'))).toBeNull();
    expect((await send(server.port, 'DELETE', '/files/doomed.txt')).status).toBe(404);
    expect((await send(server.port, 'DELETE', '/files/no/such/folder.txt')).status).toBe(404);
  });

  test('If-None-Match: * makes an upload create-only', async () => {
    const created = await send(server.port, 'PUT', '/files/once.txt', 'original', { 'If-None-Match': '*' });
    expect(created.status).toBe(201);
    const again = await send(server.port, 'PUT', '/files/once.txt', 'overwrite', { 'If-None-Match': '*' });
    expect(again.status).toBe(412);
    const post = await send(server.port, 'POST', '/files/once.txt', 'overwrite', { 'If-None-Match': '*' });
    expect(post.status).toBe(412);
    expect(readFileSync(path.join(dir, 'once.txt'), 'utf8')).toBe('original');
  });

  test('If-Match replaces only the version named, and only if it exists', async () => {
    const v1 = await send(server.port, 'PUT', '/files/versioned.txt', 'v1');
    const etag1 = v1.header('ETag')!;
    const v2 = await send(server.port, 'PUT', '/files/versioned.txt', 'v2', { 'If-Match': etag1 });
    expect(v2.status).toBe(204);
    // etag1 is stale now: a lost update is refused.
    const stale = await send(server.port, 'PUT', '/files/versioned.txt', 'v3', { 'If-Match': etag1 });
    expect(stale.status).toBe(412);
    expect(readFileSync(path.join(dir, 'versioned.txt'), 'utf8')).toBe('v2');
    // A weak tag never matches strongly (RFC 9110 §8.8.3.2).
    const weak = await send(server.port, 'PUT', '/files/versioned.txt', 'v3', { 'If-Match': `W/${v2.header('ETag')}` });
    expect(weak.status).toBe(412);
    const listed = await send(server.port, 'PUT', '/files/versioned.txt', 'v3', { 'If-Match': `"nope", ${v2.header('ETag')}` });
    expect(listed.status).toBe(204);
    expect(readFileSync(path.join(dir, 'versioned.txt'), 'utf8')).toBe('v3');
    // If-Match on a missing file fails, even with *.
    expect((await send(server.port, 'PUT', '/files/absent.txt', 'x', { 'If-Match': '*' })).status).toBe(412);
    expect(contents(path.join(dir, 'absent.txt'))).toBeNull();
    expect((await send(server.port, 'PUT', '/files/versioned.txt', 'v4', { 'If-Match': '*' })).status).toBe(204);
  });

  test('If-Unmodified-Since refuses an upload over a file changed after the date', async () => {
    writeFileSync(path.join(dir, 'dated.txt'), 'dated');
    const past = new Date(Date.now() - 3600_000).toUTCString();
    const future = new Date(Date.now() + 3600_000).toUTCString();
    expect((await send(server.port, 'PUT', '/files/dated.txt', 'no', { 'If-Unmodified-Since': past })).status).toBe(412);
    expect(readFileSync(path.join(dir, 'dated.txt'), 'utf8')).toBe('dated');
    expect((await send(server.port, 'PUT', '/files/dated.txt', 'yes', { 'If-Unmodified-Since': future })).status).toBe(204);
    expect(readFileSync(path.join(dir, 'dated.txt'), 'utf8')).toBe('yes');
  });

  test('a name longer than the file system allows is refused before the body is read', async () => {
    const before = tree(dir);
    const res = await send(server.port, 'PUT', `/files/${'n'.repeat(300)}.txt`, 'x');
    expect(res.status).toBe(414);
    expect(tree(dir)).toEqual(before);
  });

  test('DELETE honours If-Match', async () => {
    const put = await send(server.port, 'PUT', '/files/guarded.txt', 'g');
    expect((await send(server.port, 'DELETE', '/files/guarded.txt', '', { 'If-Match': '"other"' })).status).toBe(412);
    expect(contents(path.join(dir, 'guarded.txt'))).not.toBeNull();
    expect((await send(server.port, 'DELETE', '/files/guarded.txt', '', { 'If-Match': put.header('ETag')! })).status).toBe(204);
    expect(contents(path.join(dir, 'guarded.txt'))).toBeNull();
  });

  test('Expect: 100-continue: 100 Continue, then the body, then 201', async () => {
    const c = await RawClient.connect(server.port);
    c.send('PUT /files/expect.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
    const interim = await c.readResponse();
    expect(interim.statusLine).toBe('HTTP/1.1 100 Continue');
    c.send('hello');
    const final = await c.readResponse();
    expect(final.status).toBe(201);
    c.close();
    expect(readFileSync(path.join(dir, 'expect.txt'), 'utf8')).toBe('hello');
  });

  test('Expect: 100-continue with a failing precondition: 412 without 100, content never asked for', async () => {
    writeFileSync(path.join(dir, 'taken.txt'), 'mine');
    const c = await RawClient.connect(server.port);
    c.send('PUT /files/taken.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\nIf-None-Match: *\r\n\r\n');
    const res = await c.readResponse();
    expect(res.status).toBe(412);
    c.close();
    expect(readFileSync(path.join(dir, 'taken.txt'), 'utf8')).toBe('mine');
  });

  test('a persistent connection carries several uploads in a row', async () => {
    const c = await RawClient.connect(server.port);
    c.send('PUT /files/k1.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\none');
    c.send('PUT /files/k2.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\ntwo\r\n0\r\n\r\n');
    c.send('DELETE /files/k1.txt HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await c.readResponse()).status).toBe(201);
    expect((await c.readResponse()).status).toBe(201);
    expect((await c.readResponse()).status).toBe(204);
    await c.expectOpenAndQuiet();
    c.close();
    expect(contents(path.join(dir, 'k1.txt'))).toBeNull();
    expect(readFileSync(path.join(dir, 'k2.txt'), 'utf8')).toBe('two');
  });

  test('Content-Range in an upload is 400; a content coding is 415 with Accept-Encoding', async () => {
    writeFileSync(path.join(dir, 'ranged.txt'), 'whole');
    const ranged = await send(server.port, 'PUT', '/files/ranged.txt', 'part', { 'Content-Range': 'bytes 0-3/10' });
    expect(ranged.status).toBe(400);
    const coded = await send(server.port, 'PUT', '/files/ranged.txt', 'x', { 'Content-Encoding': 'gzip' });
    expect(coded.status).toBe(415);
    expect(coded.header('Accept-Encoding')).toBe('identity');
    expect(readFileSync(path.join(dir, 'ranged.txt'), 'utf8')).toBe('whole');
  });
});
