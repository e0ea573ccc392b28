// Folders, moving and deleting under /files/ with WebDAV's MKCOL, MOVE and
// DELETE (RFC 4918 §9.3, §9.9, §9.6), sent by the real curl to the server
// process; each test checks the status AND what is on disk afterwards.
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { tempDir, writeTree } from './support';
import { dav, read, tree } from './webdav-support';

let base: string;
let dir: string;
let server: RunningServer;
let url: string;

beforeAll(async () => {
  base = tempDir('webdav');
  dir = path.join(base, 'served');
  writeTree(base, { 'outside/keep.txt': 'outside', 'served/.keep': 'hidden' });
  server = await startServer(['--directory', dir]);
  url = `http://127.0.0.1:${server.port}/files/`;
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(base, { recursive: true, force: true });
});

/** A fresh folder below the served one for one test, so tests do not see each other's names. */
function area(name: string, files: Record<string, string> = {}): string {
  const at = path.join(dir, name);
  fs.mkdirSync(at);
  writeTree(at, files);
  return at;
}

describe('MKCOL', () => {
  test('creates a folder: 201, with or without the trailing slash; it is listed at once', async () => {
    const at = area('mk');
    expect((await dav('MKCOL', `${url}mk/photos/`)).status).toBe(201);
    expect((await dav('MKCOL', `${url}mk/caf%C3%A9`)).status).toBe(201);
    expect(tree(at)).toEqual(['café/', 'photos/']);
    const listing = await dav('GET', `${url}mk/`);
    expect(listing.body).toContain('photos/');
    expect(listing.body).toContain('café/');
  });

  test('405 with Allow when the name exists, as a file or as a folder (the served folder too)', async () => {
    const at = area('mk405', { 'file.txt': 'f', 'folder/inside.txt': 'i' });
    for (const target of ['mk405/file.txt', 'mk405/folder', 'mk405/folder/', '']) {
      const res = await dav('MKCOL', url + target);
      expect([target, res.status]).toEqual([target, 405]);
      expect(res.headers['allow']).toContain('GET');
    }
    expect(read(path.join(at, 'file.txt'))).toBe('f');
    expect(tree(at)).toEqual(['file.txt', 'folder/', 'folder/inside.txt']);
  });

  test('409 when a parent is missing or is a file; nothing is created', async () => {
    const at = area('mk409', { 'file.txt': 'f' });
    expect((await dav('MKCOL', `${url}mk409/no/such/`)).status).toBe(409);
    expect((await dav('MKCOL', `${url}mk409/file.txt/sub/`)).status).toBe(409);
    expect(tree(at)).toEqual(['file.txt']);
  });

  test('415 when the request has content; nothing is created and the connection is usable', async () => {
    const at = area('mk415');
    const res = await dav('MKCOL', `${url}mk415/x/`, { 'Content-Type': 'application/xml' }, ['--data-binary', '<mkcol/>']);
    expect(res.status).toBe(415);
    expect(tree(at)).toEqual([]);
  });

  test('404 for names the path rules refuse: dot-names, .., encoded slash, upload temporary names', async () => {
    const before = tree(base);
    for (const target of ['.git/', 'sub/.hidden/', '%2e%2e/escaped/', '..%2fescaped/', 'a%00b/', '.upload-0123456789abcdef.partial/']) {
      const res = await dav('MKCOL', url + target);
      expect([target, res.status]).toEqual([target, 404]);
    }
    expect(tree(base)).toEqual(before);
  });
});

describe('MOVE', () => {
  test('renames a file: 201; the old name is gone, the new one has the bytes', async () => {
    const at = area('mv1', { 'a.txt': 'alpha' });
    const res = await dav('MOVE', `${url}mv1/a.txt`, { Destination: '/files/mv1/b.txt' });
    expect(res.status).toBe(201);
    expect(tree(at)).toEqual(['b.txt']);
    expect(read(path.join(at, 'b.txt'))).toBe('alpha');
  });

  test('Destination as an absolute URI of this server (the Host authority)', async () => {
    const at = area('mv2', { 'a.txt': 'alpha' });
    const res = await dav('MOVE', `${url}mv2/a.txt`, { Destination: `${url}mv2/sub%20dir/b%C3%A9.txt` }, ['-H', 'Host: localhost:' + String(server.port)]);
    // curl's Host was replaced: the Destination's authority (127.0.0.1) differs, so that is another server.
    expect(res.status).toBe(502);
    fs.mkdirSync(path.join(at, 'sub dir'));
    const ok = await dav('MOVE', `${url}mv2/a.txt`, { Destination: `${url}mv2/sub%20dir/b%C3%A9.txt` });
    expect(ok.status).toBe(201);
    expect(tree(at)).toEqual(['sub dir/', 'sub dir/bé.txt']);
    // Scheme and host are case-insensitive, the default port is implied.
    fs.writeFileSync(path.join(at, 'c.txt'), 'c');
    const upper = await dav('MOVE', `${url}mv2/c.txt`, { Destination: `HTTP://LOCALHOST/files/mv2/d.txt` }, ['-H', 'Host: localhost:80']);
    expect(upper.status).toBe(201);
    expect(read(path.join(at, 'd.txt'))).toBe('c');
  });

  test('Overwrite: T (the default) replaces a file: 204; Overwrite: F refuses with 412', async () => {
    const at = area('mv3', { 'a.txt': 'new', 'b.txt': 'old', 'c.txt': 'third' });
    const refused = await dav('MOVE', `${url}mv3/a.txt`, { Destination: '/files/mv3/b.txt', Overwrite: 'F' });
    expect(refused.status).toBe(412);
    expect([read(path.join(at, 'a.txt')), read(path.join(at, 'b.txt'))]).toEqual(['new', 'old']);
    expect((await dav('MOVE', `${url}mv3/a.txt`, { Destination: '/files/mv3/b.txt' })).status).toBe(204);
    expect(tree(at)).toEqual(['b.txt', 'c.txt']);
    expect(read(path.join(at, 'b.txt'))).toBe('new');
    expect((await dav('MOVE', `${url}mv3/c.txt`, { Destination: '/files/mv3/b.txt', Overwrite: 'T' })).status).toBe(204);
    expect(tree(at)).toEqual(['b.txt']);
    expect(read(path.join(at, 'b.txt'))).toBe('third');
    expect((await dav('MOVE', `${url}mv3/b.txt`, { Destination: '/files/mv3/x.txt', Overwrite: 'maybe' })).status).toBe(400);
  });

  test('409 when the destination folder does not exist; 404 when the source does not', async () => {
    const at = area('mv4', { 'a.txt': 'a' });
    expect((await dav('MOVE', `${url}mv4/a.txt`, { Destination: '/files/mv4/no/such/a.txt' })).status).toBe(409);
    expect((await dav('MOVE', `${url}mv4/a.txt`, { Destination: '/files/mv4/a.txt/b.txt' })).status).toBe(409);
    expect((await dav('MOVE', `${url}mv4/missing.txt`, { Destination: '/files/mv4/b.txt' })).status).toBe(404);
    expect((await dav('MOVE', `${url}mv4/a.txt`)).status).toBe(400); // no Destination
    expect(tree(at)).toEqual(['a.txt']);
  });

  test('moves a folder with everything in it, into another folder, in one rename', async () => {
    const at = area('mv5', { 'docs/a.txt': 'a', 'docs/deep/b.txt': 'b', 'archive/old.txt': 'o' });
    const inode = fs.statSync(path.join(at, 'docs')).ino;
    const res = await dav('MOVE', `${url}mv5/docs/`, { Destination: '/files/mv5/archive/docs-2024/' });
    expect(res.status).toBe(201);
    expect(tree(at)).toEqual(['archive/', 'archive/docs-2024/', 'archive/docs-2024/a.txt', 'archive/docs-2024/deep/', 'archive/docs-2024/deep/b.txt', 'archive/old.txt']);
    expect(fs.statSync(path.join(at, 'archive', 'docs-2024')).ino).toBe(inode); // renamed, not copied
  });

  test('a folder into itself or below itself, onto an ancestor, or onto itself: 403, nothing changes', async () => {
    const at = area('mv6', { 'a/b/c.txt': 'c' });
    const before = tree(at);
    for (const dest of ['/files/mv6/a/inside', '/files/mv6/a/b/deeper/', '/files/mv6/a', '/files/mv6/a/']) {
      const res = await dav('MOVE', `${url}mv6/a/`, { Destination: dest });
      expect([dest, res.status]).toEqual([dest, 403]);
    }
    const up = await dav('MOVE', `${url}mv6/a/b/`, { Destination: '/files/mv6/a/' });
    expect(up.status).toBe(403);
    expect(tree(at)).toEqual(before);
  });

  test('a non-empty folder is replaced only with an explicit Overwrite: T (409 otherwise); an empty one always', async () => {
    const at = area('mv7', { 'src/new.txt': 'new', 'full/old.txt': 'old', 'two/x.txt': 'x' });
    fs.mkdirSync(path.join(at, 'empty'));
    const refused = await dav('MOVE', `${url}mv7/src/`, { Destination: '/files/mv7/full/' });
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('Overwrite: T');
    expect(read(path.join(at, 'full', 'old.txt'))).toBe('old');
    expect((await dav('MOVE', `${url}mv7/src/`, { Destination: '/files/mv7/full/', Overwrite: 'T' })).status).toBe(204);
    expect(tree(at)).toEqual(['empty/', 'full/', 'full/new.txt', 'two/', 'two/x.txt']);
    expect((await dav('MOVE', `${url}mv7/two/`, { Destination: '/files/mv7/empty/' })).status).toBe(204);
    expect(tree(at)).toEqual(['empty/', 'empty/x.txt', 'full/', 'full/new.txt']);
  });

  test('If-Match on a file is honoured: 412 for another version, and the file stays', async () => {
    const at = area('mv8', { 'a.txt': 'a' });
    const head = await dav('HEAD', `${url}mv8/a.txt`, {}, ['-I']);
    const etag = head.headers['etag']!;
    expect((await dav('MOVE', `${url}mv8/a.txt`, { Destination: '/files/mv8/b.txt', 'If-Match': '"other"' })).status).toBe(412);
    expect(tree(at)).toEqual(['a.txt']);
    expect((await dav('MOVE', `${url}mv8/a.txt`, { Destination: '/files/mv8/b.txt', 'If-Match': etag })).status).toBe(201);
    expect(tree(at)).toEqual(['b.txt']);
  });
});

describe('DELETE', () => {
  test('an empty folder: 204, gone', async () => {
    const at = area('rm1');
    fs.mkdirSync(path.join(at, 'empty'));
    expect((await dav('DELETE', `${url}rm1/empty/`)).status).toBe(204);
    expect(tree(at)).toEqual([]);
  });

  test('a non-empty folder: 409 with a body saying to send Depth: infinity; with it, 204 and all gone', async () => {
    const at = area('rm2', { 'full/a.txt': 'a', 'full/deep/b.txt': 'b', 'full/deep/.hidden': 'h' });
    const refused = await dav('DELETE', `${url}rm2/full/`);
    expect(refused.status).toBe(409);
    expect(refused.body).toContain('Depth: infinity');
    expect(tree(at)).toEqual(['full/', 'full/a.txt', 'full/deep/', 'full/deep/.hidden', 'full/deep/b.txt']);
    expect((await dav('DELETE', `${url}rm2/full/`, { Depth: '1' })).status).toBe(400);
    expect((await dav('DELETE', `${url}rm2/full/`, { Depth: 'infinity' })).status).toBe(204);
    expect(tree(at)).toEqual([]);
  });

  test('a recursive delete removes symlinks inside, never what they point to', async () => {
    const at = area('rm3', { 'tree/a.txt': 'a' });
    fs.symlinkSync(path.join(base, 'outside'), path.join(at, 'tree', 'out-dir'));
    fs.symlinkSync(path.join(base, 'outside', 'keep.txt'), path.join(at, 'tree', 'out-file'));
    expect((await dav('DELETE', `${url}rm3/tree`, { Depth: 'infinity' })).status).toBe(204);
    expect(tree(at)).toEqual([]);
    expect(tree(path.join(base, 'outside'))).toEqual(['keep.txt']);
    expect(read(path.join(base, 'outside', 'keep.txt'))).toBe('outside');
  });

  test('the served folder itself: 403, even with Depth: infinity', async () => {
    const before = tree(dir);
    expect((await dav('DELETE', url)).status).toBe(403);
    expect((await dav('DELETE', url, { Depth: 'infinity' })).status).toBe(403);
    expect(tree(dir)).toEqual(before);
  });

  test('files still delete as before: 204 then 404', async () => {
    const at = area('rm4', { 'f.txt': 'f' });
    expect((await dav('DELETE', `${url}rm4/f.txt`)).status).toBe(204);
    expect((await dav('DELETE', `${url}rm4/f.txt`)).status).toBe(404);
    expect(tree(at)).toEqual([]);
  });
});

test('OPTIONS on /files/ lists MKCOL and MOVE in Allow, and claims no DAV compliance', async () => {
  const res = await dav('OPTIONS', url);
  expect(res.status).toBe(204);
  const allow = res.headers['allow']!.split(',').map((m) => m.trim());
  expect(allow).toEqual(expect.arrayContaining(['GET', 'HEAD', 'PUT', 'POST', 'DELETE', 'MKCOL', 'MOVE', 'OPTIONS']));
  expect(res.headers['dav']).toBeUndefined();
  expect((await dav('PROPFIND', url)).status).toBe(501);
});
