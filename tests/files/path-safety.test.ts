// Path safety under both mounts (/files/ over --directory, / over --root):
// every spelling of "leave the directory" is 404, a malformed encoding is
// 400, symlinks that resolve outside are 404 and unlisted, dotfiles are
// hidden unless --dotfiles.
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { send, tempDir, writeTree } from './support';

const SECRET = 'SECRET-OUTSIDE-THE-SERVED-DIRECTORY';
let base: string;
let served: string;
let server: RunningServer;
let withDots: RunningServer;

beforeAll(async () => {
  base = tempDir('path-safety');
  served = path.join(base, 'served');
  writeTree(base, {
    'secret.txt': SECRET,
    'outside/inner.txt': SECRET,
    'served/ok.txt': 'ok',
    'served/sub/inside.txt': 'inside',
    'served/.env': 'DOTFILE',
    'served/.git/config': 'DOTDIR',
    'served/sub/.hidden.txt': 'DOTFILE',
    'served/.upload-0123456789abcdef.partial': 'HALF AN UPLOAD',
    'served%2e%2e/secret.txt': 'decoy named with a literal percent sign',
  });
  fs.symlinkSync(path.join(base, 'secret.txt'), path.join(served, 'link-out.txt'));
  fs.symlinkSync(path.join(base, 'outside'), path.join(served, 'dir-out'));
  fs.symlinkSync('../../secret.txt', path.join(served, 'sub', 'relative-out.txt'));
  fs.symlinkSync('inside.txt', path.join(served, 'sub', 'link-in.txt'));
  fs.symlinkSync(path.join(served, 'sub'), path.join(served, 'dir-in'));
  [server, withDots] = await Promise.all([
    startServer(['--directory', served, '--root', served]),
    startServer(['--directory', served, '--root', served, '--dotfiles']),
  ]);
});
afterAll(async () => {
  await Promise.all([server.stop(), withDots.stop()]);
  fs.rmSync(base, { recursive: true, force: true });
});

const ESCAPES = [
  '../secret.txt',
  'sub/../../secret.txt',
  '%2e%2e/secret.txt',
  '%2E%2E/secret.txt',
  '.%2e/secret.txt',
  '%2e./secret.txt',
  '..%2fsecret.txt',
  '..%2Fsecret.txt',
  'sub%2f..%2f..%2fsecret.txt',
  '..\\secret.txt',
  '..%5csecret.txt',
  'sub\\..\\..\\secret.txt',
  '%00../secret.txt',
  'ok.txt%00',
  'ok.txt%00.png',
  '%252e%252e/secret.txt',
  '..%252fsecret.txt',
  './ok.txt',
  'sub/./inside.txt',
  'sub/..',
  '..',
  '%2e%2e',
  'link-out.txt',
  'dir-out/inner.txt',
  'dir-out/',
  'sub/relative-out.txt',
];

describe.each([
  ['/files/', () => server],
  ['/', () => server],
])('under %s', (prefix, srv) => {
  test.each(ESCAPES)('%s is 404 and reveals nothing', async (spelling) => {
    const res = await send(srv().port, prefix + spelling);
    expect(res.status).toBe(404);
    expect(res.body.toString('latin1')).not.toContain(SECRET);
  });

  test.each(['%zz', '%C3', '%c0%ae%c0%ae/secret.txt', 'ok%2.txt', '%e2%82'])('malformed encoding %s is 400', async (spelling) => {
    const res = await send(srv().port, prefix + spelling);
    expect(res.status).toBe(400);
  });

  test('symlinks that stay inside are followed', async () => {
    expect((await send(srv().port, `${prefix}sub/link-in.txt`)).body.toString()).toBe('inside');
    expect((await send(srv().port, `${prefix}dir-in/inside.txt`)).body.toString()).toBe('inside');
  });

  test('a plain file is served (the control)', async () => {
    const res = await send(srv().port, `${prefix}ok.txt`);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('ok');
  });

  test('dotfiles and dot-folders are 404 by default', async () => {
    for (const p of ['.env', '.git/config', 'sub/.hidden.txt', '%2eenv', '.git/']) {
      expect((await send(srv().port, prefix + p)).status).toBe(404);
    }
  });

  test('listings leave out dotfiles and symlinks that lead outside', async () => {
    // The rows only: the page's script and style are the same for every folder.
    const rows = (html: string) => html.slice(html.indexOf('<tbody>'), html.indexOf('</tbody>'));
    const res = await send(srv().port, prefix);
    expect(res.status).toBe(200);
    const html = rows(res.body.toString());
    expect(html).toContain('href="ok.txt"');
    expect(html).toContain('href="dir-in/"');
    expect(html).not.toContain('.env');
    expect(html).not.toContain('.git');
    expect(html).not.toContain('link-out');
    expect(html).not.toContain('dir-out');
    const sub = rows((await send(srv().port, `${prefix}sub/`)).body.toString());
    expect(sub).toContain('href="link-in.txt"');
    expect(sub).not.toContain('relative-out');
    expect(sub).not.toContain('.hidden');
  });
});

describe('with --dotfiles', () => {
  test('dotfiles are served and listed, escapes are still 404', async () => {
    expect((await send(withDots.port, '/files/.env')).body.toString()).toBe('DOTFILE');
    expect((await send(withDots.port, '/.git/config')).body.toString()).toBe('DOTDIR');
    const listing = (await send(withDots.port, '/files/')).body.toString();
    expect(listing).toContain('href=".env"');
    expect(listing).toContain('href=".git/"');
    expect(listing).not.toContain('.upload-');
    expect((await send(withDots.port, '/files/.upload-0123456789abcdef.partial')).status).toBe(404); // an unfinished upload
    for (const spelling of ['../secret.txt', '%2e%2e/secret.txt', 'link-out.txt', '.%2e/secret.txt']) {
      expect((await send(withDots.port, `/files/${spelling}`)).status).toBe(404);
    }
  });
});

test('HEAD follows the same rules as GET', async () => {
  expect((await send(server.port, '/files/%2e%2e/secret.txt', {}, 'HEAD')).status).toBe(404);
  expect((await send(server.port, '/files/link-out.txt', {}, 'HEAD')).status).toBe(404);
  expect((await send(server.port, '/files/.env', {}, 'HEAD')).status).toBe(404);
  expect((await send(server.port, '/files/ok.txt', {}, 'HEAD')).status).toBe(200);
});
