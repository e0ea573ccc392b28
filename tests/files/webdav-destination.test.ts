// Path safety of MOVE's Destination (RFC 4918 §9.9, §10.3): it is decoded
// once under the rules of request paths, must stay under /files/ of this
// server, and a refused Destination changes nothing, inside the served
// folder or outside it. Sent by the real curl to the server process.
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { tempDir, writeTree } from './support';
import { dav, read, tree } from './webdav-support';

let base: string;
let served: string;
let server: RunningServer;
let withDots: RunningServer;

beforeAll(async () => {
  base = tempDir('webdav-destination');
  served = path.join(base, 'served');
  writeTree(base, { 'outside/keep.txt': 'outside', 'served/src.txt': 'source', 'served/sub/inside.txt': 'inside', 'served/.git/config': 'dot' });
  fs.symlinkSync(path.join(base, 'outside'), path.join(served, 'out-link'));
  fs.symlinkSync(path.join(served, 'sub'), path.join(served, 'in-link'));
  [server, withDots] = await Promise.all([startServer(['--directory', served]), startServer(['--directory', served, '--dotfiles'])]);
});
afterAll(async () => {
  await Promise.all([server.stop(), withDots.stop()]);
  fs.rmSync(base, { recursive: true, force: true });
});

/** MOVE of /files/src.txt to `destination`; expects `status` and that nothing anywhere changed. */
async function refused(destination: string, status: number, s: RunningServer = server): Promise<string> {
  const before = tree(base);
  const res = await dav('MOVE', `http://127.0.0.1:${s.port}/files/src.txt`, { Destination: destination });
  expect([destination, res.status]).toEqual([destination, status]);
  expect(tree(base)).toEqual(before);
  expect(read(path.join(served, 'src.txt'))).toBe('source');
  return res.body;
}

test.each([
  '/files/../escaped.txt',
  '/files/sub/../../escaped.txt',
  '/files/%2e%2e/escaped.txt',
  '/files/%2E%2E/escaped.txt',
  '/files/.%2e/escaped.txt',
  '/files/..%2fescaped.txt',
  '/files/..%2Fescaped.txt',
  '/files/sub%2f..%2f..%2fescaped.txt',
  '/files/..%5cescaped.txt',
  '/files/esc%00aped.txt',
  '/files/',
])('Destination %s (dot-segments, encoded slash or backslash, NUL, the served folder) is 403', async (destination) => {
  await refused(destination, 403);
});

test('a Destination folder that is a symlink leading outside: 403, nothing written outside', async () => {
  await refused('/files/out-link/escaped.txt', 403);
  expect(tree(path.join(base, 'outside'))).toEqual(['keep.txt']);
});

test('a Destination folder that is a symlink staying inside is followed', async () => {
  fs.writeFileSync(path.join(served, 'via.txt'), 'via');
  const res = await dav('MOVE', `http://127.0.0.1:${server.port}/files/via.txt`, { Destination: '/files/in-link/via.txt' });
  expect(res.status).toBe(201);
  expect(read(path.join(served, 'sub', 'via.txt'))).toBe('via');
});

test.each([
  ['another host', (port: number) => `http://example.com:${port}/files/moved.txt`],
  ['another name of this host', (port: number) => `http://localhost:${port}/files/moved.txt`],
  ['another port', (port: number) => `http://127.0.0.1:${port + 1}/files/moved.txt`],
  ['the default port', () => 'http://127.0.0.1/files/moved.txt'],
  ['another scheme', (port: number) => `https://127.0.0.1:${port}/files/moved.txt`],
  ['another prefix', () => '/echo/moved.txt'],
  ['another prefix through dot-segments', () => '/files2/../files/moved.txt'],
  ['a prefix without its slash', () => '/files'],
])('Destination on %s is 502 Bad Gateway (RFC 4918 §9.9.4)', async (_what, dest) => {
  await refused(dest(server.port), 502);
});

test.each([
  'files/relative.txt',
  '//127.0.0.1/files/network-path.txt',
  '/files/with?query',
  '/files/with#fragment',
  '/files/with space.txt',
  'http://user@127.0.0.1/files/userinfo.txt',
])('a Destination that is not an absolute URI or path (%s) is 400', async (destination) => {
  await refused(destination, 400);
});

test('a malformed percent-encoding in Destination is 400', async () => {
  await refused('/files/%zz.txt', 400);
  await refused('/files/%C3.txt', 400);
});

test('dot-names are refused as destinations (403) unless --dotfiles; upload temporary names always', async () => {
  for (const destination of ['/files/.env', '/files/%2eenv', '/files/sub/.hidden/x.txt', '/files/.git/config']) {
    await refused(destination, 403);
  }
  for (const name of ['.upload-0123456789abcdef.partial', '.upload-lock-0123456789abcdef', '.upload-lock-0123456789abcdef.break']) {
    await refused(`/files/${name}`, 403, withDots);
  }
  const ok = await dav('MOVE', `http://127.0.0.1:${withDots.port}/files/src.txt`, { Destination: '/files/.env' });
  expect(ok.status).toBe(201);
  expect(read(path.join(served, '.env'))).toBe('source');
  expect((await dav('MOVE', `http://127.0.0.1:${withDots.port}/files/.env`, { Destination: '/files/src.txt' })).status).toBe(201);
  // A dot-name is no source either without --dotfiles (404, as for a read).
  expect((await dav('MOVE', `http://127.0.0.1:${server.port}/files/.git/`, { Destination: '/files/git/' })).status).toBe(404);
});

test('a Destination decoded once: %2525 stays a literal %25 in the name', async () => {
  fs.writeFileSync(path.join(served, 'pct.txt'), 'pct');
  const res = await dav('MOVE', `http://127.0.0.1:${server.port}/files/pct.txt`, { Destination: '/files/100%2525%2e%2e.txt' });
  expect(res.status).toBe(201);
  expect(read(path.join(served, '100%25...txt'))).toBe('pct');
});
