// Security headers over the wire: every response the routes produce says
// `X-Content-Type-Options: nosniff`; everything under /files/ (uploaded
// content) also says `Content-Security-Policy: sandbox`, whatever the
// status or method; the --root site is not sandboxed. Then the policy
// itself: a response's own CSP wins, Vary lists combine, shared frozen
// header objects stay shared (the serializer caches their lines).
import fs from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { HttpError } from '../../app/http/errors';
import { Fields } from '../../app/http/fields';
import type { Request } from '../../app/http/request';
import type { Response } from '../../app/http/response';
import { AddedFields, securityHeaders, varyWith } from '../../app/access/security-headers';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';
import { send, tempDir, writeTree } from '../files/support';

let server: RunningServer;
let files: string;
let site: string;

beforeAll(async () => {
  files = tempDir('security-files');
  site = tempDir('security-site');
  writeTree(files, { 'page.html': '<script>alert(1)</script>', 'notes.txt': 'some notes, long enough to be worth compressing: notes notes notes notes' });
  writeTree(site, { 'index.html': '<!doctype html><title>owner</title>', 'app.js': 'console.log(1)' });
  server = await startServer(['--directory', files, '--root', site]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(files, { recursive: true, force: true });
  fs.rmSync(site, { recursive: true, force: true });
});

const nosniff = (r: WireResponse) => r.header('X-Content-Type-Options');
const csp = (r: WireResponse) => r.header('Content-Security-Policy');

describe('on the wire', () => {
  test.each([
    ['GET', '/', 200, 'the --root site'],
    ['GET', '/app.js', 200, 'a site script'],
    ['GET', '/missing', 404, 'a path nothing serves'],
    ['GET', '/echo/abc', 200, 'an echo'],
    ['GET', '/user-agent', 200, 'the user agent'],
    ['DELETE', '/echo/abc', 405, 'a method the route lacks'],
    ['BREW', '/', 501, 'an unknown method'],
    ['OPTIONS', '*', 204, 'OPTIONS *'],
  ])('%s %s → %i (%s): nosniff, not sandboxed', async (method, target, status) => {
    const res = await send(server.port, target, { 'User-Agent': 'test' }, method);
    expect(res.status).toBe(status);
    expect(nosniff(res)).toBe('nosniff');
    expect(csp(res)).toBeUndefined();
  });

  test.each([
    ['GET', '/files/page.html', {}, 200],
    ['HEAD', '/files/page.html', {}, 200],
    ['GET', '/files/page.html', { Range: 'bytes=0-7' }, 206],
    ['GET', '/files/missing.html', {}, 404],
    ['GET', '/files/%zz', {}, 400], // a handler's HttpError, answered by the engine
  ])('%s %s %j → %i: sandboxed and nosniff', async (method, target, headers, status) => {
    const res = await send(server.port, target, headers as Record<string, string>, method);
    expect(res.status).toBe(status);
    expect(csp(res)).toBe('sandbox');
    expect(nosniff(res)).toBe('nosniff');
  });

  test('a 304 and a gzip-coded file keep the fields; the content is unchanged', async () => {
    const first = await send(server.port, '/files/notes.txt', { 'Accept-Encoding': 'gzip' });
    expect(first.header('Content-Encoding')).toBe('gzip');
    expect(gunzipSync(first.body).toString()).toBe(fs.readFileSync(`${files}/notes.txt`, 'utf8'));
    expect([csp(first), nosniff(first)]).toEqual(['sandbox', 'nosniff']);
    const again = await send(server.port, '/files/notes.txt', { 'Accept-Encoding': 'gzip', 'If-None-Match': first.header('ETag')! });
    expect(again.status).toBe(304);
    expect([csp(again), nosniff(again)]).toEqual(['sandbox', 'nosniff']);
  });

  test('uploads: 201, 204 and DELETE answers carry them too', async () => {
    const c = await RawClient.connect(server.port);
    const put = (n: number) => `PUT /files/up.html HTTP/1.1\r\nHost: x\r\nContent-Length: ${n}\r\n\r\n`;
    c.send(`${put(2)}hi`);
    const created = await c.readResponse();
    c.send(`${put(2)}ho`);
    const replaced = await c.readResponse();
    c.send('DELETE /files/up.html HTTP/1.1\r\nHost: x\r\n\r\n');
    const deleted = await c.readResponse();
    c.close();
    expect([created.status, replaced.status, deleted.status]).toEqual([201, 204, 204]);
    for (const r of [created, replaced, deleted]) expect([csp(r), nosniff(r)]).toEqual(['sandbox', 'nosniff']);
  });

  test('a request the engine rejects before any route (malformed head) gets its plain 400 only', async () => {
    const c = await RawClient.connect(server.port);
    c.send('GET /files/page.html HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n');
    const res = await c.readResponse();
    c.close();
    expect(res.status).toBe(400);
    expect(res.header('Content-Type')).toBe('text/plain');
    expect(nosniff(res)).toBeUndefined();
  });
});

describe('the policy', () => {
  const request = (path: string): Request => ({ method: 'GET', path, fields: new Fields() }) as unknown as Request;
  const policy = securityHeaders({ sandboxPrefix: '/files/' });

  test("a response's own Content-Security-Policy (the listing page's, with its script hash) is left alone", async () => {
    const own = { 'Content-Type': 'text/html', 'content-security-policy': "default-src 'none'; script-src 'sha256-abc'" };
    const res = (await policy(() => ({ status: 200, headers: own, body: '<p>' }))(request('/files/'))) as Response;
    expect(res.headers).toEqual({ ...own, 'X-Content-Type-Options': 'nosniff' });
    expect(own).not.toHaveProperty('X-Content-Type-Options'); // the handler's object is not mutated
  });

  test('asynchronous answers and thrown HttpErrors get the fields; the error keeps its status, detail and close', async () => {
    const late = await policy(async () => ({ status: 200 }))(request('/files/a'));
    expect(late.headers).toEqual({ 'Content-Security-Policy': 'sandbox', 'X-Content-Type-Options': 'nosniff' });
    const thrown = (() => {
      try {
        policy(() => {
          throw new HttpError(400, 'bad name', false, { Allow: 'GET' });
        })(request('/echo/x'));
      } catch (e) {
        return e as HttpError;
      }
      return undefined;
    })();
    expect(thrown).toBeInstanceOf(HttpError);
    expect([thrown!.status, thrown!.detail, thrown!.closeConnection, thrown!.headers]).toEqual([400, 'bad name', false, { Allow: 'GET', 'X-Content-Type-Options': 'nosniff' }]);
    const rejected = policy(() => Promise.reject(new HttpError(413, 'too big')))(request('/files/a')) as Promise<Response>;
    await expect(rejected).rejects.toMatchObject({ status: 413, headers: { 'Content-Security-Policy': 'sandbox', 'X-Content-Type-Options': 'nosniff' } });
    const bug = new TypeError('a bug');
    await expect(policy(() => Promise.reject(bug))(request('/'))).rejects.toBe(bug); // not an HttpError: the engine's 500
  });

  test('a shared frozen header object maps to one shared frozen result, so the serializer caches its lines', () => {
    const added = new AddedFields({ 'X-Content-Type-Options': 'nosniff' });
    const shared = Object.freeze({ 'Content-Type': 'text/plain' });
    const a = added.to(shared);
    const other = added.to(Object.freeze({ 'Content-Type': 'text/html' }));
    expect(added.to(shared)).toBe(a);
    expect(Object.isFrozen(a)).toBe(true);
    expect(other).not.toBe(a);
    const fresh = { 'Content-Type': 'text/plain' };
    expect(added.to(fresh)).toEqual(a);
    expect(Object.isFrozen(added.to(fresh))).toBe(false);
    // A file's cached answer is a frozen Response: one frozen result for it, the original untouched.
    const cached: Response = Object.freeze({ status: 200, headers: shared, body: Buffer.from('x') });
    const out = added.response(cached);
    expect(added.response(cached)).toBe(out);
    expect(out).toEqual({ status: 200, headers: a, body: Buffer.from('x') });
    expect(cached.headers).toBe(shared);
  });

  test('Vary lists combine without duplicates; * stays *', () => {
    expect(varyWith('Accept-Encoding', 'Origin')).toBe('Accept-Encoding, Origin');
    expect(varyWith('accept-encoding, origin', 'Origin')).toBe('accept-encoding, origin');
    expect(varyWith('*', 'Origin')).toBe('*');
    expect(varyWith('', 'Origin')).toBe('Origin');
    const added = new AddedFields({ Vary: 'Origin' });
    expect(added.to({ vary: 'Accept-Encoding' })).toEqual({ vary: 'Accept-Encoding, Origin' });
  });
});
