// Folder downloads (issue 10): GET <folder>/?zip and ?tar stream the folder
// as an archive that Debian's unzip and GNU tar unpack to the same tree
// (names, sizes, SHA-256, empty folders), leaving out dotfiles (unless
// --dotfiles), upload temporary files, symlinks that lead outside or to a
// folder, and anything that is not a file or folder.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { expectedTree, treeOf, unpack, writeFixture } from './archive-support';
import { send, tempDir } from './support';

let base: string;
let dir: string;
let server: RunningServer;

beforeAll(async () => {
  base = tempDir('archive');
  dir = path.join(base, 'served folder');
  writeFixture(dir, path.join(base, 'outside'));
  server = await startServer(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(base, { recursive: true, force: true });
});

describe.each(['zip', 'tar'] as const)('?%s', (format) => {
  const mediaType = format === 'zip' ? 'application/zip' : 'application/x-tar';

  test('the served directory downloads as an archive that unpacks to the same tree, under a folder named after it', async () => {
    const res = await send(server.port, `/files/?${format}`, { 'Accept-Encoding': 'gzip, br' });
    expect(res.status).toBe(200);
    expect(res.header('Content-Type')).toBe(mediaType);
    expect(res.header('Content-Disposition')).toBe(`attachment; filename="served folder.${format}"`);
    expect(res.header('Transfer-Encoding')).toBe('chunked');
    expect(res.header('Content-Length')).toBeUndefined();
    expect(res.header('Content-Encoding')).toBeUndefined(); // no content coding on top of an archive
    const out = unpack(format, res.body, base);
    expect(treeOf(out)).toEqual(expectedTree('served folder', false));
  });

  test('a folder below downloads as itself; a non-ASCII name gets filename* (RFC 8187)', async () => {
    const res = await send(server.port, `/files/caf%C3%A9/?${format}`);
    expect(res.status).toBe(200);
    expect(res.header('Content-Disposition')).toBe(`attachment; filename="caf_.${format}"; filename*=UTF-8''caf%C3%A9.${format}`);
    // The fixture's café folder, with café as the top folder.
    const want = Object.entries(expectedTree('t', false)).filter(([k]) => k === 't/caf\u00e9' || k.startsWith('t/caf\u00e9/'));
    expect(want.length).toBe(4);
    expect(treeOf(unpack(format, res.body, base))).toEqual(Object.fromEntries(want.map(([k, v]) => [k.slice('t/'.length), v])));
  });

  test('HEAD answers the same head with no content (the engine leaves out the framing field of an unknown length)', async () => {
    const get = await send(server.port, `/files/data/?${format}`);
    const head = await send(server.port, `/files/data/?${format}`, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    const fields = (r: typeof get) => r.fieldLines.filter(([k]) => !['date', 'transfer-encoding'].includes(k.toLowerCase()));
    expect(fields(get).map(([k]) => k)).toEqual(['Content-Type', 'Content-Disposition', 'Content-Security-Policy', 'X-Content-Type-Options']);
    expect(fields(head)).toEqual(fields(get));
  });

  test('a folder URL without its slash redirects, keeping the query; a file with the query is just the file', async () => {
    const redirect = await send(server.port, `/files/data?${format}`);
    expect(redirect.status).toBe(301);
    expect(redirect.header('Location')).toBe(`/files/data/?${format}`);
    const file = await send(server.port, `/files/a%20b.txt?${format}`);
    expect(file.status).toBe(200);
    expect(file.header('Content-Type')).toBe('text/plain; charset=utf-8');
    expect(file.body.toString()).toBe('hello, archive\n');
  });

  test('hidden and missing folders are 404, as without the query', async () => {
    expect((await send(server.port, `/files/.git/?${format}`)).status).toBe(404);
    expect((await send(server.port, `/files/nothing/?${format}`)).status).toBe(404);
    expect((await send(server.port, `/files/outside-dir/?${format}`)).status).toBe(404);
  });
});

test('a zip stores already-compressed types (images, unknown bytes) and deflates compressible ones', async () => {
  const res = await send(server.port, '/files/data/?zip');
  const file = path.join(base, 'methods.zip');
  fs.writeFileSync(file, res.body);
  // unzip -v: "Length Method Size Cmpr Date Time CRC-32 Name" per entry.
  const methods = Object.fromEntries(
    execFileSync('unzip', ['-v', file], { encoding: 'utf8' })
      .split('\n')
      .map((line) => /^\s*\d+\s+(Stored|Defl:\w)\s.*\s(data\/\S*)$/.exec(line))
      .flatMap((m) => (m === null ? [] : [[m[2], m[1]]])),
  );
  expect(methods).toEqual({ 'data/': 'Stored', 'data/log.txt': 'Defl:N', 'data/pic.png': 'Stored', 'data/random.bin': 'Stored' });
});

test('a folder with an index.html still downloads as an archive (not its page, not a cached copy)', async () => {
  const site = path.join(dir, 'site');
  fs.mkdirSync(site);
  fs.writeFileSync(path.join(site, 'index.html'), '<!doctype html><title>site</title>');
  try {
    const page = await send(server.port, '/files/site/');
    expect(page.header('Content-Type')).toMatch(/^text\/html/);
    const res = await send(server.port, '/files/site/?tar');
    expect(res.header('Content-Type')).toBe('application/x-tar');
    expect(Object.keys(treeOf(unpack('tar', res.body, base)))).toEqual(['site', 'site/index.html']);
  } finally {
    fs.rmSync(site, { recursive: true });
  }
});

describe('with --dotfiles', () => {
  let dotServer: RunningServer;
  beforeAll(async () => {
    dotServer = await startServer(['--directory', dir, '--dotfiles']);
  });
  afterAll(() => dotServer.stop());

  test.each(['zip', 'tar'] as const)('?%s holds the dotfiles, never the upload temporary files', async (format) => {
    const res = await send(dotServer.port, `/files/?${format}`);
    expect(res.status).toBe(200);
    expect(treeOf(unpack(format, res.body, base))).toEqual(expectedTree('served folder', true));
  });
});
