// Issue 12 item 1: a response never mixes two versions of a file. Another
// process renames two versions of different sizes into place in a loop
// while 2,000 GETs run on keep-alive connections: every answer is 200, its
// body is entirely one version with that version's length, and an ETag never
// names two different bodies. Run with the file in memory (default cache),
// streamed from its descriptor (a cache too small to hold it), and uncached.
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { tempDir } from './support';

const REQUESTS = 2000;
const CONNECTIONS = 8;

/** A writer that renames version A and version B over `target` in turns until killed (or 60 s). */
function startRenamer(target: string, a: Buffer, b: Buffer): ChildProcess {
  const script = `
    const fs = require('node:fs');
    const [target, a, b] = [process.argv[1], Buffer.from(process.argv[2], 'base64'), Buffer.from(process.argv[3], 'base64')];
    const until = Date.now() + 60000;
    let i = 0;
    while (Date.now() < until) {
      const tmp = target + '.tmp' + (i % 2);
      fs.writeFileSync(tmp, i % 2 === 0 ? a : b);
      fs.renameSync(tmp, target);
      i++;
    }`;
  return spawn(process.execPath, ['-e', script, target, a.toString('base64'), b.toString('base64')], { stdio: 'ignore' });
}

const MODES: [string, string[], number, number][] = [
  ['kept in memory', [], 1000, 3000],
  ['streamed from its descriptor', ['--cache-size', '16384'], 10_000, 30_000],
  ['uncached', ['--cache-size', '0'], 1000, 3000],
];

describe.each(MODES)('a file %s', (_mode, args, sizeA, sizeB) => {
  let dir: string;
  let server: RunningServer;
  let renamer: ChildProcess;
  const a = Buffer.alloc(sizeA, 'A');
  const b = Buffer.alloc(sizeB, 'B');

  beforeAll(async () => {
    dir = tempDir('versions');
    fs.writeFileSync(path.join(dir, 'v.txt'), a);
    server = await startServer(['--directory', dir, ...args]);
    renamer = startRenamer(path.join(dir, 'v.txt'), a, b);
  });
  afterAll(async () => {
    renamer.kill('SIGKILL');
    await server.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test(`${REQUESTS} GETs during renames: each body is one whole version, and an ETag names one body`, async () => {
    const bodyOf = new Map<string, string>();
    const seen = { A: 0, B: 0 };
    const worker = async () => {
      const c = await RawClient.connect(server.port);
      try {
        for (let i = 0; i < REQUESTS / CONNECTIONS; i++) {
          c.send('GET /files/v.txt HTTP/1.1\r\nHost: x\r\n\r\n');
          const res = await c.readResponse({ timeoutMs: 15000 });
          expect(res.status).toBe(200);
          const version = res.body.equals(a) ? 'A' : res.body.equals(b) ? 'B' : 'mixed';
          expect(version).not.toBe('mixed');
          seen[version as 'A' | 'B']++;
          expect(res.header('content-length')).toBe(String(res.body.length));
          const etag = res.header('etag')!;
          const known = bodyOf.get(etag);
          if (known === undefined) bodyOf.set(etag, version);
          else expect(known).toBe(version);
        }
      } finally {
        c.close();
      }
    };
    await Promise.all(Array.from({ length: CONNECTIONS }, worker));
    // The renames really interleaved with the requests.
    expect(seen.A).toBeGreaterThan(0);
    expect(seen.B).toBeGreaterThan(0);
  }, 60_000);
});
