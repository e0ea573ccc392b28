// Range requests on served files (RFC 9110 §14, §13.1.5): single ranges,
// multipart/byteranges, 416, If-Range, identity only; and curl's -r and
// -C - (resume an interrupted download byte-identically).
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { curl, parseByteranges, send, tempDir, writeTree } from './support';

let dir: string;
let server: RunningServer;
const DATA = randomBytes(10_000);
const TEXT = 'abcdefghijklmnopqrstuvwxyz'.repeat(40); // 1040 bytes of a compressible type
const BIG = randomBytes(16 * 1024 * 1024);
const OLD = new Date('2024-01-01T00:00:00Z');

beforeAll(async () => {
  dir = tempDir('ranges');
  writeTree(dir, { 'data.bin': DATA, 'text.txt': TEXT, 'big.bin': BIG, 'empty.bin': '' });
  fs.utimesSync(path.join(dir, 'data.bin'), OLD, OLD);
  server = await startServer(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const range = (spec: string, extra: Record<string, string> = {}, target = '/files/data.bin') => send(server.port, target, { Range: spec, ...extra });

test('full responses advertise Accept-Ranges: bytes', async () => {
  expect((await send(server.port, '/files/data.bin')).header('Accept-Ranges')).toBe('bytes');
});

describe('single ranges give 206 with Content-Range', () => {
  test.each([
    ['bytes=0-99', 0, 99],
    ['bytes=100-199', 100, 199],
    ['bytes=9990-', 9990, 9999],
    ['bytes=-100', 9900, 9999],
    ['bytes=9000-20000', 9000, 9999], // last-pos past the end is clamped
    ['bytes=-20000', 0, 9999], // a suffix longer than the file means all of it
    ['bytes=5-5', 5, 5],
    ['BYTES = 0-9', 0, 9], // unit is case-insensitive, OWS around "="
    ['bytes=0-9, 5-14', 0, 14], // overlapping ranges are merged
    ['bytes=0-9,10-19', 0, 19], // adjacent ranges are merged
    ['bytes=0-9, 999999-', 0, 9], // an unsatisfiable member is dropped
  ])('%s → bytes %i-%i', async (spec, first, last) => {
    const res = await range(spec);
    expect(res.status).toBe(206);
    expect(res.header('Content-Range')).toBe(`bytes ${first}-${last}/10000`);
    expect(res.header('Content-Length')).toBe(String(last - first + 1));
    expect(res.body.equals(DATA.subarray(first, last + 1))).toBe(true);
  });
});

test('several ranges give multipart/byteranges with each part correct', async () => {
  const res = await range('bytes=0-9, 100-149, -5');
  expect(res.status).toBe(206);
  expect(res.header('Content-Range')).toBeUndefined();
  expect(Number(res.header('Content-Length'))).toBe(res.body.length);
  const parts = parseByteranges(res.header('Content-Type')!, res.body);
  expect(parts.map((p) => p.headers['content-range'])).toEqual(['bytes 0-9/10000', 'bytes 100-149/10000', 'bytes 9995-9999/10000']);
  expect(parts.every((p) => p.headers['content-type'] === 'application/octet-stream')).toBe(true);
  expect(parts[0]!.body.equals(DATA.subarray(0, 10))).toBe(true);
  expect(parts[1]!.body.equals(DATA.subarray(100, 150))).toBe(true);
  expect(parts[2]!.body.equals(DATA.subarray(9995))).toBe(true);
});

test('out-of-order ranges are sent in ascending order', async () => {
  const res = await range('bytes=500-509, 0-4');
  const parts = parseByteranges(res.header('Content-Type')!, res.body);
  expect(parts.map((p) => p.headers['content-range'])).toEqual(['bytes 0-4/10000', 'bytes 500-509/10000']);
});

describe('unsatisfiable ranges give 416 with Content-Range: bytes */size', () => {
  test.each(['bytes=10000-', 'bytes=20000-30000', 'bytes=-0', 'bytes=10000-10001, 50000-'])('%s', async (spec) => {
    const res = await range(spec);
    expect(res.status).toBe(416);
    expect(res.header('Content-Range')).toBe('bytes */10000');
  });

  test('any int-range of an empty file', async () => {
    const res = await range('bytes=0-', {}, '/files/empty.bin');
    expect(res.status).toBe(416);
    expect(res.header('Content-Range')).toBe('bytes */0');
  });
});

describe('an invalid or foreign Range is ignored: 200 with everything', () => {
  test.each(['bytes=9-5', 'bytes=abc', 'bytes=1-2-3', 'bytes=', 'items=0-5', 'bytes 0-5', 'bytes=--5', 'bytes=0x10-20', `bytes=${Array.from({ length: 101 }, (_, i) => `${i * 10}-${i * 10}`).join(',')}`])(
    '%s',
    async (spec) => {
      const res = await range(spec);
      expect(res.status).toBe(200);
      expect(res.body.equals(DATA)).toBe(true);
    },
  );

  test('a suffix range of an empty file', async () => {
    expect((await range('bytes=-5', {}, '/files/empty.bin')).status).toBe(200);
  });

  test('HEAD ignores Range', async () => {
    const res = await send(server.port, '/files/data.bin', { Range: 'bytes=0-9' }, 'HEAD');
    expect(res.status).toBe(200);
    expect(res.header('Content-Length')).toBe('10000');
  });
});

describe('If-Range', () => {
  let etag: string;
  let lastModified: string;
  beforeAll(async () => {
    const res = await send(server.port, '/files/data.bin');
    etag = res.header('ETag')!;
    lastModified = res.header('Last-Modified')!;
  });

  test('with the current ETag: the range is sent', async () => {
    expect((await range('bytes=0-9', { 'If-Range': etag })).status).toBe(206);
  });
  test('with the current Last-Modified (older than a second): the range is sent', async () => {
    expect((await range('bytes=0-9', { 'If-Range': lastModified })).status).toBe(206);
  });
  test.each([
    ['another ETag', () => '"stale"'],
    ['a weak ETag (never matches)', () => `W/${etag}`],
    ['another date', () => 'Mon, 01 Jan 2024 00:00:01 GMT'],
    ['garbage', () => 'whenever'],
  ])('with %s: the whole file, 200', async (_n, v) => {
    const res = await range('bytes=0-9', { 'If-Range': v() });
    expect(res.status).toBe(200);
    expect(res.body.equals(DATA)).toBe(true);
  });
  test('a Last-Modified within the last second is weak, so If-Range with it sends everything', async () => {
    const p = path.join(dir, 'fresh.bin');
    fs.writeFileSync(p, DATA);
    const now = new Date();
    fs.utimesSync(p, now, now);
    const lm = (await send(server.port, '/files/fresh.bin')).header('Last-Modified')!;
    const res = await send(server.port, '/files/fresh.bin', { Range: 'bytes=0-9', 'If-Range': lm });
    expect(res.status).toBe(200);
  });
  test('If-Match failing wins over Range (412)', async () => {
    expect((await range('bytes=0-9', { 'If-Match': '"stale"' })).status).toBe(412);
  });
});

test('ranges apply to the identity coding: Accept-Encoding gzip with Range gets identity bytes', async () => {
  const res = await range('bytes=10-19', { 'Accept-Encoding': 'gzip, br' }, '/files/text.txt');
  expect(res.status).toBe(206);
  expect(res.header('Content-Encoding')).toBeUndefined();
  expect(res.header('Vary')).toBe('Accept-Encoding');
  expect(res.body.toString()).toBe(TEXT.slice(10, 20));
});

describe('curl', () => {
  const url = (p: string) => `http://127.0.0.1:${server.port}/files/${p}`;
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  test('-r a-b fetches exactly those bytes', async () => {
    const r = await curl(['-r', '1000-1999', url('data.bin')]);
    expect(r.code).toBe(0);
    expect(r.stdout.equals(DATA.subarray(1000, 2000))).toBe(true);
  });

  test('-C - resumes an interrupted download and the result is byte-identical', async () => {
    const out = path.join(dir, 'download.part');
    // Interrupt a throttled download after about a second.
    const first = await curl(['--limit-rate', '100K', '--max-time', '1', '-o', out, url('big.bin')]);
    expect(first.code).toBe(28); // operation timed out: the download was cut
    const partial = fs.statSync(out).size;
    expect(partial).toBeGreaterThan(0);
    expect(partial).toBeLessThan(BIG.length);
    const resumed = await curl(['-C', '-', '-o', out, '-w', '%{http_code} %{size_download}', url('big.bin')]);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout.toString()).toBe(`206 ${BIG.length - partial}`);
    expect(sha(fs.readFileSync(out))).toBe(sha(BIG));
  });

  test('-C - on a complete download changes nothing', async () => {
    const out = path.join(dir, 'complete.bin');
    fs.writeFileSync(out, DATA);
    const r = await curl(['-C', '-', '-o', out, url('data.bin')]);
    expect(r.code).toBe(0); // curl reads the 416's "bytes */10000" as "already complete"
    expect(fs.readFileSync(out).equals(DATA)).toBe(true);
  });
});
