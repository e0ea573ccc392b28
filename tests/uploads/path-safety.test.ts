// Writes and deletes never reach outside the served directory, whatever the
// spelling of the name (decoded once: dot-segments, encoded slashes and
// backslashes, NUL, overlong UTF-8) or the symlinks on the way.
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningServer } from '../helpers/server';
import { launch, partials, removeScratch, scratch, send, tree } from './helpers';

let server: RunningServer;
let sandbox: string; // holds the served directory and things that must stay untouched
let served: string;

/** Every path and file content under the sandbox but outside the served directory. */
function outside(): string[] {
  return tree(sandbox)
    .filter((p) => !p.startsWith('served/'))
    .map((p) => (p.endsWith('/') || lstatSync(path.join(sandbox, p)).isSymbolicLink() ? p : `${p}=${readFileSync(path.join(sandbox, p), 'utf8')}`));
}

beforeAll(async () => {
  sandbox = scratch('upload-sandbox-');
  served = path.join(sandbox, 'served');
  mkdirSync(path.join(served, 'sub'), { recursive: true });
  mkdirSync(path.join(served, 'real'));
  mkdirSync(path.join(sandbox, 'outside'));
  writeFileSync(path.join(sandbox, 'secret.txt'), 'secret');
  writeFileSync(path.join(sandbox, 'outside', 'x.txt'), 'outside x');
  symlinkSync(path.join(sandbox, 'outside'), path.join(served, 'out'));
  symlinkSync('../outside', path.join(served, 'out-relative'));
  symlinkSync(path.join(served, 'real'), path.join(served, 'in'));
  symlinkSync(path.join(sandbox, 'nowhere'), path.join(served, 'dangling'));
  symlinkSync(path.join(sandbox, 'secret.txt'), path.join(served, 'secret-link.txt'));
  symlinkSync(path.join(sandbox, 'secret.txt'), path.join(served, 'secret-link-2.txt'));
  writeFileSync(path.join(served, '.keep'), 'hidden');
  server = await launch(['--directory', served]);
});
afterAll(async () => {
  await server.stop();
  removeScratch(sandbox);
});

const ESCAPES = [
  '/files/../escape.txt',
  '/files/%2e%2e/escape.txt',
  '/files/%2E%2E/escape.txt',
  '/files/.%2e/escape.txt',
  '/files/sub/../../escape.txt',
  '/files/sub/%2e%2e/%2e%2e/escape.txt',
  '/files/..%2fescape.txt',
  '/files/..%2Fescape.txt',
  '/files/%2e%2e%2fescape.txt',
  '/files/sub%2f..%2f..%2fescape.txt',
  '/files/..%5cescape.txt',
  '/files/%5c..%5cescape.txt',
  '/files/..\\escape.txt',
  '/files/escape.txt%00',
  '/files/%00/escape.txt',
  '/files/%c0%ae%c0%ae/escape.txt',
  '/files/%zz/escape.txt',
  '/files/%e2%80/escape.txt',
  'http://localhost/files/%2e%2e/escape.txt',
  '/files/out/escape.txt',
  '/files/out/new/deeper/escape.txt',
  '/files/out-relative/escape.txt',
  '/files/dangling/escape.txt',
  '/files/dangling/new/escape.txt',
];

test.each(ESCAPES)('PUT %s is refused (400/404) and writes nothing anywhere', async (target) => {
  const before = outside();
  const servedBefore = tree(served);
  const res = await send(server.port, 'PUT', target, 'escaped!');
  expect([400, 404]).toContain(res.status);
  expect(outside()).toEqual(before);
  expect(tree(served)).toEqual(servedBefore);
});

test.each([
  '/files/%2e%2e/secret.txt',
  '/files/../secret.txt',
  '/files/out/x.txt',
  '/files/out-relative/x.txt',
  '/files/secret-link-2.txt', // a link leading outside is not a file of ours
])('DELETE %s is refused and removes nothing', async (target) => {
  const before = outside();
  const servedBefore = tree(served);
  const res = await send(server.port, 'DELETE', target);
  expect([400, 404]).toContain(res.status);
  expect(outside()).toEqual(before);
  expect(tree(served)).toEqual(servedBefore);
});

test('dotfiles are neither written nor deleted (they are not served either)', async () => {
  const servedBefore = tree(served);
  for (const target of ['/files/.hidden', '/files/%2ehidden', '/files/sub/.git/config', '/files/.upload-0123456789abcdef.partial']) {
    expect([target, (await send(server.port, 'PUT', target, 'x')).status]).toEqual([target, 404]);
  }
  expect((await send(server.port, 'DELETE', '/files/.keep')).status).toBe(404);
  expect(tree(served)).toEqual(servedBefore);
  expect(readFileSync(path.join(served, '.keep'), 'utf8')).toBe('hidden');
});

test('a symlinked folder that stays inside is followed', async () => {
  const res = await send(server.port, 'PUT', '/files/in/via-link.txt', 'through the link');
  expect(res.status).toBe(201);
  expect(readFileSync(path.join(served, 'real', 'via-link.txt'), 'utf8')).toBe('through the link');
});

test('an upload to a name that is a link leading outside replaces the link, never the file outside', async () => {
  const res = await send(server.port, 'PUT', '/files/secret-link.txt', 'replaced the link');
  expect(res.status).toBe(204);
  expect(readFileSync(path.join(sandbox, 'secret.txt'), 'utf8')).toBe('secret');
  expect(lstatSync(path.join(served, 'secret-link.txt')).isSymbolicLink()).toBe(false);
  expect(readFileSync(path.join(served, 'secret-link.txt'), 'utf8')).toBe('replaced the link');
});

test('names are decoded exactly once: double encoding and a leading // stay inside, literally', async () => {
  expect((await send(server.port, 'PUT', '/files/%252e%252e/literal.txt', 'a')).status).toBe(201);
  expect(readFileSync(path.join(served, '%2e%2e', 'literal.txt'), 'utf8')).toBe('a');
  expect((await send(server.port, 'PUT', '/files//tmp/abs-upload-test.txt', 'b')).status).toBe(201);
  expect(readFileSync(path.join(served, 'tmp', 'abs-upload-test.txt'), 'utf8')).toBe('b');
  expect(existsSync('/tmp/abs-upload-test.txt')).toBe(false);
  expect(partials(served)).toEqual([]);
});

test('with --dotfiles, dot-names can be uploaded and deleted', async () => {
  const dir = scratch();
  const s = await launch(['--directory', dir, '--dotfiles']);
  try {
    expect((await send(s.port, 'PUT', '/files/.env', 'A=1')).status).toBe(201);
    expect(readFileSync(path.join(dir, '.env'), 'utf8')).toBe('A=1');
    expect((await send(s.port, 'DELETE', '/files/.env')).status).toBe(204);
    // An upload's temporary name is never writable, even then.
    expect((await send(s.port, 'PUT', '/files/.upload-0123456789abcdef.partial', 'x')).status).toBe(404);
    expect(tree(dir)).toEqual([]);
  } finally {
    await s.stop();
    removeScratch(dir);
  }
});
