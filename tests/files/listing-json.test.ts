// The JSON listing (issue 10): `?json`, or an Accept field that prefers
// application/json to text/html (RFC 9110 §12.5.1), gets the whole folder
// as JSON; each file's etag is exactly the ETag a GET of the file answers
// with; hidden names stay hidden; HTML and JSON vary on Accept.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { prefersJson } from '../../app/files/listing-json';
import { type RunningServer, startServer } from '../helpers/server';
import { send, tempDir, writeTree } from './support';

let dir: string;
let server: RunningServer;
const MANY = 1234; // more than a page of HTML

beforeAll(async () => {
  dir = tempDir('listing-json');
  writeTree(dir, {
    'a b/x.txt': 'twelve bytes',
    'a b/é ü.bin': Buffer.alloc(3000),
    'a b/sub/inner.txt': 'in',
    'a b/.dotfile': 'hidden',
    'a b/.upload-0123456789abcdef.partial': 'unfinished',
  });
  fs.utimesSync(path.join(dir, 'a b', 'x.txt'), new Date('2026-11-30T20:00:00Z'), new Date('2026-11-30T20:00:00Z'));
  fs.mkdirSync(path.join(dir, 'many'));
  for (let i = 0; i < MANY; i++) fs.writeFileSync(path.join(dir, 'many', `n${i}`), '');
  server = await startServer(['--directory', dir]);
}, 60_000);
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface JsonEntry {
  name: string;
  type: 'file' | 'directory';
  size: number | null;
  mtime: string;
  etag: string | null;
}

test('?json: the folder as JSON, exactly: path, then every visible entry with type, size, time and the file ETag a GET returns', async () => {
  const res = await send(server.port, '/files/a%20b/?json');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('application/json');
  expect(res.header('Vary')).toBe('Accept, Accept-Encoding');
  const doc = JSON.parse(res.body.toString()) as { path: string; entries: JsonEntry[] };
  expect(Object.keys(doc)).toEqual(['path', 'entries']);
  expect(doc.path).toBe('/files/a%20b/');
  const sub = fs.statSync(path.join(dir, 'a b', 'sub'));
  expect(doc.entries.map((e) => Object.keys(e))).toEqual(Array(3).fill(['name', 'type', 'size', 'mtime', 'etag']));
  expect(doc.entries[0]).toEqual({ name: 'sub', type: 'directory', size: null, mtime: new Date(sub.mtimeMs).toISOString(), etag: null });
  expect(doc.entries.slice(1).map((e) => [e.name, e.type, e.size])).toEqual([
    ['é ü.bin', 'file', 3000],
    ['x.txt', 'file', 12],
  ]);
  expect(doc.entries[2]!.mtime).toBe('2026-11-30T20:00:00.000Z');
  for (const e of doc.entries.slice(1)) {
    const file = await send(server.port, `/files/a%20b/${encodeURIComponent(e.name)}`);
    expect(file.status).toBe(200);
    expect(e.etag).toBe(file.header('ETag'));
    // A conditional GET with the listed tag is a 304: the tag really validates the file.
    expect((await send(server.port, `/files/a%20b/${encodeURIComponent(e.name)}`, { 'If-None-Match': e.etag! })).status).toBe(304);
  }
});

test('a file rewritten in place gets a new etag in the listing within a second, equal to the file\'s', async () => {
  const before = JSON.parse((await send(server.port, '/files/a%20b/?json')).body.toString()) as { entries: JsonEntry[] };
  fs.writeFileSync(path.join(dir, 'a b', 'x.txt'), 'now thirteen!');
  const deadline = Date.now() + 5000;
  let entry: JsonEntry;
  do {
    await new Promise((r) => setTimeout(r, 150));
    entry = (JSON.parse((await send(server.port, '/files/a%20b/?json')).body.toString()) as { entries: JsonEntry[] }).entries.find((e) => e.name === 'x.txt')!;
  } while (entry.size !== 13 && Date.now() < deadline);
  expect(entry.size).toBe(13);
  expect(entry.etag).not.toBe(before.entries.find((e) => e.name === 'x.txt')!.etag);
  expect(entry.etag).toBe((await send(server.port, '/files/a%20b/x.txt')).header('ETag'));
});

test('the JSON lists the whole folder, not a page of it, in the order asked for', async () => {
  const doc = JSON.parse((await send(server.port, '/files/many/?json')).body.toString()) as { entries: JsonEntry[] };
  expect(doc.entries.map((e) => e.name)).toEqual(Array.from({ length: MANY }, (_, i) => `n${i}`));
  const desc = JSON.parse((await send(server.port, '/files/many/?json&sort=name&order=desc')).body.toString()) as { entries: JsonEntry[] };
  expect(desc.entries.map((e) => e.name)).toEqual(Array.from({ length: MANY }, (_, i) => `n${MANY - 1 - i}`));
});

test('negotiation: JSON only when Accept prefers it to HTML by weight; a browser keeps HTML', async () => {
  const cases: Array<[string | undefined, 'json' | 'html']> = [
    [undefined, 'html'],
    ['application/json', 'json'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8', 'html'],
    ['*/*', 'html'],
    ['application/json, text/html', 'html'],
    ['application/json;q=0.5, text/html;q=0.4', 'json'],
    ['text/html;q=0.5, application/json', 'json'],
    ['application/*', 'json'],
    ['application/json;q=0, */*', 'html'],
    ['text/*;q=0.2, application/json;q=0.3', 'json'],
    ['text/html;q=0.9, */*', 'html'],
    ['application/json;q=bogus', 'html'],
  ];
  for (const [accept, want] of cases) {
    const res = await send(server.port, '/files/a%20b/', accept === undefined ? {} : { Accept: accept });
    expect([accept, res.status]).toEqual([accept, 200]);
    expect([accept, res.header('Content-Type')]).toEqual([accept, want === 'json' ? 'application/json' : 'text/html; charset=utf-8']);
    expect(res.header('Vary')).toBe('Accept, Accept-Encoding');
    expect(prefersJson(accept)).toBe(want === 'json');
  }
  // ?json wins whatever Accept says.
  expect((await send(server.port, '/files/a%20b/?json', { Accept: 'text/html' })).header('Content-Type')).toBe('application/json');
});

test('hidden names (dotfiles, unfinished uploads) are not in the JSON', async () => {
  const body = (await send(server.port, '/files/a%20b/?json')).body.toString();
  expect(body).not.toContain('.dotfile');
  expect(body).not.toContain('.upload-');
});

test('the JSON has its own weak ETag (304 on If-None-Match), is coded for gzip, and differs from the HTML\'s', async () => {
  const res = await send(server.port, '/files/a%20b/?json');
  const etag = res.header('ETag')!;
  expect(etag).toMatch(/^W\/"/);
  expect(etag).not.toBe((await send(server.port, '/files/a%20b/')).header('ETag'));
  const again = await send(server.port, '/files/a%20b/?json', { 'If-None-Match': etag });
  expect(again.status).toBe(304);
  const gz = await send(server.port, '/files/a%20b/?json', { 'Accept-Encoding': 'gzip' });
  expect(gz.header('Content-Encoding')).toBe('gzip');
  expect(zlib.gunzipSync(gz.body).equals(res.body)).toBe(true);
  // The JSON is no page: it gets the sandbox of everything under /files/, not the listing page's policy; HEAD gets GET's head.
  expect(res.header('Content-Security-Policy')).toBe('sandbox');
  expect((await send(server.port, '/files/a%20b/?json', {}, 'HEAD')).fieldLines).toEqual(res.fieldLines);
});
