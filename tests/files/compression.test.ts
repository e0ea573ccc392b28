// Content coding of served files (RFC 9110 §8.4, §12.5.3): negotiation
// with weights, 406, Vary, compressible vs already-compressed types,
// streaming coding of large files, precompressed siblings, curl --compressed.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { type RunningServer, startServer } from '../helpers/server';
import { curl, send, tempDir, writeTree } from './support';

let dir: string;
let server: RunningServer;
const CSS = 'body { color: rebeccapurple; }\n'.repeat(50);
const LARGE = Array.from({ length: 40_000 }, (_, i) => `line ${i}: the quick brown fox jumps over the lazy dog\n`).join(''); // ~2.3 MB
const PNG = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47]), Buffer.alloc(4000, 7)]);
const JS = 'export const answer = 42;\n'.repeat(100);
const BR_SIBLING = zlib.brotliCompressSync(JS);
const GZ_SIBLING = zlib.gzipSync(JS, { level: 1 });
const BIN = Buffer.alloc(5000, 0x41);

beforeAll(async () => {
  dir = tempDir('coding');
  writeTree(dir, {
    'style.css': CSS,
    'large.txt': LARGE,
    'pic.png': PNG,
    'app.js': JS,
    'app.js.br': BR_SIBLING,
    'app.js.gz': GZ_SIBLING,
    'only-gz.js': JS,
    'only-gz.js.gz': GZ_SIBLING,
    'data.bin': BIN,
    'data.bin.gz': zlib.gzipSync(BIN),
    'stale.js': JS,
    'stale.js.gz': zlib.gzipSync('OLD CONTENT'),
  });
  const old = new Date('2020-01-01T00:00:00Z');
  fs.utimesSync(path.join(dir, 'stale.js.gz'), old, old);
  server = await startServer(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const get = (target: string, ae?: string, extra: Record<string, string> = {}) =>
  send(server.port, `/files/${target}`, ae === undefined ? extra : { 'Accept-Encoding': ae, ...extra });

function decode(coding: string | undefined, body: Buffer): Buffer {
  if (coding === 'gzip') return zlib.gunzipSync(body);
  if (coding === 'br') return zlib.brotliDecompressSync(body);
  if (coding === 'deflate') return zlib.inflateSync(body);
  if (coding === undefined) return body;
  throw new Error(`unexpected coding ${coding}`);
}

describe('negotiation over gzip, br, deflate', () => {
  test.each([
    ['gzip', 'gzip'],
    ['br', 'br'],
    ['deflate', 'deflate'],
    ['gzip;q=0.5, br', 'br'],
    ['br;q=0.5, gzip;q=0.8', 'gzip'],
    ['deflate;q=1, gzip;q=0.9, br;q=0.1', 'deflate'],
    ['br, gzip, deflate', 'gzip'], // a tie goes to the server's preference, gzip first
    ['deflate, gzip, br, zstd', 'gzip'], // what curl --compressed sends
    ['*', 'gzip'],
    ['GZIP ; Q=0.7 , identity;q=0.1', 'gzip'],
    ['gzip;q=0, br;q=0', undefined],
    ['unknown-coding', undefined],
    ['identity', undefined],
    ['', undefined],
  ])('Accept-Encoding: %s → %s', async (ae, expected) => {
    const res = await get('style.css', ae);
    expect(res.status).toBe(200);
    expect(res.header('Content-Encoding')).toBe(expected);
    expect(res.header('Vary')).toBe('Accept-Encoding');
    expect(decode(expected, res.body).toString()).toBe(CSS);
    expect(Number(res.header('Content-Length'))).toBe(res.body.length);
  });

  test.each(['identity;q=0', '*;q=0', 'gzip;q=0, identity;q=0', 'identity;q=0, unknown'])('%s leaves nothing acceptable: 406', async (ae) => {
    const res = await get('style.css', ae);
    expect(res.status).toBe(406);
    expect(res.header('Vary')).toBe('Accept-Encoding');
  });

  test('identity;q=0 still gets a coding that is acceptable', async () => {
    const res = await get('style.css', 'identity;q=0, br;q=0.5');
    expect(res.header('Content-Encoding')).toBe('br');
  });
});

describe('what gets coded', () => {
  test('an already-compressed type (PNG) is sent as it is', async () => {
    const res = await get('pic.png', 'gzip, br');
    expect(res.status).toBe(200);
    expect(res.header('Content-Encoding')).toBeUndefined();
    expect(res.header('Vary')).toBeUndefined();
    expect(res.body.equals(PNG)).toBe(true);
  });

  test.each(['blob', 'archive.bin'])('an octet-stream (%s) without siblings is sent as it is, without Vary', async (name) => {
    fs.writeFileSync(path.join(dir, name), BIN);
    const res = await get(name, 'gzip, br, deflate');
    expect(res.header('Content-Type')).toBe('application/octet-stream');
    expect(res.header('Content-Encoding')).toBeUndefined();
    expect(res.header('Vary')).toBeUndefined();
    expect(res.body.equals(BIN)).toBe(true);
  });

  test('a large text file is coded as a stream: chunked, and decodes to the file', async () => {
    for (const coding of ['gzip', 'br', 'deflate']) {
      const res = await get('large.txt', coding);
      expect(res.header('Content-Encoding')).toBe(coding);
      expect(res.header('Transfer-Encoding')).toBe('chunked');
      expect(res.header('Content-Length')).toBeUndefined();
      expect(decode(coding, res.body).toString()).toBe(LARGE);
    }
  });

  test('to an HTTP/1.0 client, a streamed coding is delimited by closing', async () => {
    const res = await send(server.port, '/files/large.txt', { 'Accept-Encoding': 'gzip' }, 'GET', 'HTTP/1.0');
    expect(res.header('Transfer-Encoding')).toBeUndefined();
    expect(res.header('Connection')).toBe('close');
    expect(zlib.gunzipSync(res.body).toString()).toBe(LARGE);
  });

  test('HEAD of a coded file says how it would be coded and sends nothing', async () => {
    const res = await get('large.txt', 'gzip', {});
    const head = await send(server.port, '/files/large.txt', { 'Accept-Encoding': 'gzip' }, 'HEAD');
    expect(head.header('Content-Encoding')).toBe('gzip');
    expect(head.header('ETag')).toBe(res.header('ETag'));
    expect(head.body.length).toBe(0);
  });
});

describe('precompressed siblings', () => {
  test('name.br is sent when br is acceptable', async () => {
    const res = await get('app.js', 'gzip, br');
    expect(res.header('Content-Encoding')).toBe('br');
    expect(res.header('Content-Type')).toBe('text/javascript; charset=utf-8');
    expect(res.body.equals(BR_SIBLING)).toBe(true);
    expect(res.header('Content-Length')).toBe(String(BR_SIBLING.length));
  });

  test('name.gz is sent when only gzip is acceptable', async () => {
    const res = await get('app.js', 'gzip');
    expect(res.header('Content-Encoding')).toBe('gzip');
    expect(res.body.equals(GZ_SIBLING)).toBe(true);
  });

  test('client weights still decide between siblings', async () => {
    expect((await get('app.js', 'br;q=0.2, gzip')).body.equals(GZ_SIBLING)).toBe(true);
  });

  test('without a br sibling, br is coded on the fly from the file', async () => {
    const res = await get('only-gz.js', 'br');
    expect(res.header('Content-Encoding')).toBe('br');
    expect(zlib.brotliDecompressSync(res.body).toString()).toBe(JS);
  });

  test('a sibling of an incompressible type is used, and its responses vary on Accept-Encoding', async () => {
    const coded = await get('data.bin', 'gzip');
    expect(coded.header('Content-Encoding')).toBe('gzip');
    expect(zlib.gunzipSync(coded.body).equals(BIN)).toBe(true);
    const plain = await get('data.bin');
    expect(plain.header('Content-Encoding')).toBeUndefined();
    expect(plain.header('Vary')).toBe('Accept-Encoding');
    expect(plain.body.equals(BIN)).toBe(true);
    expect((await get('data.bin', 'identity;q=0, gzip')).header('Content-Encoding')).toBe('gzip');
  });

  test('a sibling older than the file is stale and ignored', async () => {
    const res = await get('stale.js', 'gzip');
    expect(res.header('Content-Encoding')).toBe('gzip');
    expect(zlib.gunzipSync(res.body).toString()).toBe(JS);
  });

  test('a sibling has its own validators and a Range request gets the identity file', async () => {
    const br = await get('app.js', 'br');
    const id = await get('app.js');
    expect(br.header('ETag')).not.toBe(id.header('ETag'));
    const part = await get('app.js', 'br', { Range: 'bytes=0-5' });
    expect(part.status).toBe(206);
    expect(part.header('Content-Encoding')).toBeUndefined();
    expect(part.body.toString()).toBe(JS.slice(0, 6));
  });
});

test('curl --compressed gets gzip and decodes it to the file', async () => {
  const url = `http://127.0.0.1:${server.port}/files/large.txt`;
  const r = await curl(['--compressed', '-D', '-', url]);
  expect(r.code).toBe(0);
  const text = r.stdout.toString();
  const split = text.indexOf('\r\n\r\n');
  expect(text.slice(0, split)).toMatch(/\r\ncontent-encoding: gzip\r\n/i);
  expect(text.slice(split + 4)).toBe(LARGE);
});
