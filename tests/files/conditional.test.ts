// Validators and conditional requests on served files (RFC 9110 §8.8, §13):
// strong ETag and Last-Modified on every file; If-None-Match and
// If-Modified-Since give 304; If-Match and If-Unmodified-Since give 412;
// the evaluation order of §13.2.2.
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { curl, send, tempDir, writeTree } from './support';

let dir: string;
let server: RunningServer;
let etag: string;
let lastModified: string;
const MTIME = new Date('2024-03-10T12:00:00Z');
const BEFORE = 'Sat, 09 Mar 2024 12:00:00 GMT';
const AFTER = 'Mon, 11 Mar 2024 12:00:00 GMT';

beforeAll(async () => {
  dir = tempDir('conditional');
  writeTree(dir, { 'doc.txt': 'version one\n', 'blob': 'binary-ish' });
  fs.utimesSync(path.join(dir, 'doc.txt'), MTIME, MTIME);
  server = await startServer(['--directory', dir]);
  const res = await send(server.port, '/files/doc.txt');
  etag = res.header('ETag')!;
  lastModified = res.header('Last-Modified')!;
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = (headers: Record<string, string>, method = 'GET', target = '/files/doc.txt') => send(server.port, target, headers, method);

test('every file carries a strong ETag and its Last-Modified as an IMF-fixdate', async () => {
  expect(etag).toMatch(/^"[!#-~]+"$/); // strong: no W/ prefix; etagc characters only
  expect(lastModified).toBe('Sun, 10 Mar 2024 12:00:00 GMT');
  const other = await get({}, 'GET', '/files/blob');
  expect(other.header('ETag')).toMatch(/^"[!#-~]+"$/);
  expect(other.header('ETag')).not.toBe(etag);
});

describe('304 Not Modified', () => {
  test.each([
    ['If-None-Match with the current tag', () => ({ 'If-None-Match': etag })],
    ['If-None-Match in a list', () => ({ 'If-None-Match': `"nope", ${etag}` })],
    ['If-None-Match with the tag made weak (weak comparison)', () => ({ 'If-None-Match': `W/${etag}` })],
    ['If-None-Match: *', () => ({ 'If-None-Match': '*' })],
    ['If-Modified-Since equal to Last-Modified', () => ({ 'If-Modified-Since': lastModified })],
    ['If-Modified-Since later than Last-Modified', () => ({ 'If-Modified-Since': AFTER })],
    ['If-Modified-Since as an rfc850-date', () => ({ 'If-Modified-Since': 'Sunday, 10-Mar-24 12:00:00 GMT' })],
    ['If-Modified-Since as an asctime-date', () => ({ 'If-Modified-Since': 'Sun Mar 10 12:00:00 2024' })],
  ])('%s', async (_name, headers) => {
    const res = await get(headers());
    expect(res.status).toBe(304);
    expect(res.header('ETag')).toBe(etag);
    expect(res.header('Content-Length')).toBeUndefined();
    expect(res.body.length).toBe(0);
  });

  test('HEAD gets 304 too', async () => {
    expect((await get({ 'If-None-Match': etag }, 'HEAD')).status).toBe(304);
  });

  test('a 304 keeps the connection usable (no content follows)', async () => {
    const res = await get({ 'If-None-Match': etag, Connection: 'keep-alive' });
    expect(res.status).toBe(304);
    expect(res.rawHead).not.toMatch(/content-length/i);
  });
});

describe('200 when the condition does not hold', () => {
  test.each([
    ['If-None-Match with another tag', () => ({ 'If-None-Match': '"other"' })],
    ['If-Modified-Since earlier than Last-Modified', () => ({ 'If-Modified-Since': BEFORE })],
    ['If-Modified-Since that is not a date (ignored)', () => ({ 'If-Modified-Since': 'yesterday' })],
    ['If-None-Match takes precedence over a matching If-Modified-Since', () => ({ 'If-None-Match': '"other"', 'If-Modified-Since': AFTER })],
    ['If-Match with the current tag', () => ({ 'If-Match': etag })],
    ['If-Match: *', () => ({ 'If-Match': '*' })],
    ['If-Unmodified-Since later than Last-Modified', () => ({ 'If-Unmodified-Since': AFTER })],
    ['If-Unmodified-Since equal to Last-Modified', () => ({ 'If-Unmodified-Since': lastModified })],
    ['If-Unmodified-Since that is not a date (ignored)', () => ({ 'If-Unmodified-Since': 'soon' })],
  ])('%s', async (_name, headers) => {
    const res = await get(headers());
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('version one\n');
  });
});

describe('412 Precondition Failed', () => {
  test.each([
    ['If-Match with another tag', () => ({ 'If-Match': '"other"' })],
    ['If-Match with the tag made weak (strong comparison)', () => ({ 'If-Match': `W/${etag}` })],
    ['If-Unmodified-Since earlier than Last-Modified', () => ({ 'If-Unmodified-Since': BEFORE })],
    ['If-Match failing wins over If-None-Match matching', () => ({ 'If-Match': '"other"', 'If-None-Match': etag })],
  ])('%s', async (_name, headers) => {
    const res = await get(headers());
    expect(res.status).toBe(412);
    expect(res.body.length).toBe(0);
  });

  test('If-Match present means If-Unmodified-Since is not evaluated', async () => {
    expect((await get({ 'If-Match': etag, 'If-Unmodified-Since': BEFORE })).status).toBe(200);
  });
});

test('a change to the file changes the ETag and the old tag no longer gives 304', async () => {
  const p = path.join(dir, 'blob');
  const before = (await get({}, 'GET', '/files/blob')).header('ETag')!;
  fs.writeFileSync(p, 'binary-ish, edited');
  const res = await get({ 'If-None-Match': before }, 'GET', '/files/blob');
  expect(res.status).toBe(200);
  expect(res.header('ETag')).not.toBe(before);
  expect(res.body.toString()).toBe('binary-ish, edited');
});

test('a gzip-coded response has its own tag, which revalidates only under gzip', async () => {
  const coded = await get({ 'Accept-Encoding': 'gzip' });
  expect(coded.header('Content-Encoding')).toBe('gzip');
  const codedTag = coded.header('ETag')!;
  expect(codedTag).not.toBe(etag);
  expect((await get({ 'Accept-Encoding': 'gzip', 'If-None-Match': codedTag })).status).toBe(304);
  expect((await get({ 'If-None-Match': codedTag })).status).toBe(200); // identity is another representation
  expect((await get({ 'Accept-Encoding': 'gzip', 'If-None-Match': etag })).status).toBe(200);
});

test('curl --etag-compare / -z revalidate against the server', async () => {
  const base = `http://127.0.0.1:${server.port}/files/doc.txt`;
  const etagFile = path.join(dir, 'etag.txt');
  const first = await curl(['--etag-save', etagFile, base]);
  expect(first.stdout.toString()).toBe('version one\n');
  const second = await curl(['--etag-compare', etagFile, '-o', '/dev/null', '-w', '%{http_code}', base]);
  expect(second.stdout.toString()).toBe('304');
  const since = await curl(['-z', AFTER, '-o', '/dev/null', '-w', '%{http_code}', base]);
  expect(since.stdout.toString()).toBe('304');
  const older = await curl(['-z', BEFORE, '-w', ' %{http_code}', base]);
  expect(older.stdout.toString()).toBe('version one\n 200');
});
