// Issue 12 item 8: HEAD gets exactly the head GET would get (RFC 9110
// §9.3.2), coded variants included: same status, same fields, same
// Content-Length, with the cache and without. (Range is the one field that
// differs by design: it is defined for GET only, RFC 9110 §14.2.)
import fs from 'node:fs';
import { type RunningServer, startServer } from '../helpers/server';
import { send, tempDir, writeTree } from './support';

const CASES: [string, Record<string, string>][] = [
  ['/files/small.txt', {}],
  ['/files/small.txt', { 'Accept-Encoding': 'gzip' }],
  ['/files/small.txt', { 'Accept-Encoding': 'br' }],
  ['/files/small.txt', { 'Accept-Encoding': 'deflate;q=1, gzip;q=0.5' }],
  ['/files/small.txt', { 'Accept-Encoding': 'identity;q=0' }],
  ['/files/site.css', { 'Accept-Encoding': 'gzip, br' }],
  ['/files/data.bin', { 'Accept-Encoding': 'gzip' }],
  ['/files/small.txt', { 'If-None-Match': '"nope"', 'Accept-Encoding': 'gzip' }],
  ['/files/', {}],
  ['/files/nothing-here.txt', {}],
];

describe.each([
  ['with the cache', []],
  ['without the cache', ['--cache-size', '0']],
])('%s', (_name, args) => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = tempDir('head');
    writeTree(dir, {
      'small.txt': 'a small text file that compresses well, well, well, well\n'.repeat(20),
      'site.css': 'body { color: black; }\n'.repeat(50),
      'data.bin': Buffer.alloc(3000, 9),
    });
    server = await startServer(['--directory', dir, ...(args as string[])]);
  });
  afterAll(async () => {
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each(CASES)('HEAD %s %j has the head of GET', async (target, headers) => {
    // Twice: the first GET may compute and keep a coded variant; HEAD must not differ before or after.
    for (let round = 0; round < 2; round++) {
      const head = await send(server.port, target, headers, 'HEAD');
      const get = await send(server.port, target, headers, 'GET');
      expect(head.statusLine).toBe(get.statusLine);
      expect(head.fieldLines).toEqual(get.fieldLines);
      expect(get.header('content-length')).toBe(String(get.body.length));
    }
  });
});
