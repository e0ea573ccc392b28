// A 1 GiB upload is streamed to disk, under Node and under Bun alike, and
// the stored file has exactly the bytes sent. Under Node the server's
// resident memory stays under 150 MB (peak resident, VmHWM). Under Bun
// 1.3.14 the bar is not held, and not asserted: its net.Socket keeps reading
// from the kernel after pause() (measured: 234 MB buffered 2.5 s after a
// pause; Node holds 0.1 MB), so a disk slower than the client makes Bun
// buffer the upload in memory. Nothing in node:net stops it on that
// version; see the README's "Bun" notes.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import type { RunningServer, Runtime } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { mb, memory } from '../memory/process-status';
import { launch, partials, removeScratch, scratch } from './helpers';

const MiB = 1024 * 1024;
const TOTAL = 1024 * MiB;
const LIMIT_MB = 150;

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

describe.each<[Runtime, boolean]>([
  ['node', true],
  ['bun', false],
])('server under %s (memory bar held: %s)', (rt, memoryBar) => {
  let server: RunningServer;
  let dir: string;
  beforeAll(async () => {
    dir = scratch();
    server = await launch(['--directory', dir], { rt });
  });
  afterAll(async () => {
    await server.stop();
    removeScratch(dir);
  });

  test(`a 1 GiB upload completes byte for byte${memoryBar ? ', the server under 150 MB resident' : ''}`, async () => {
    const pid = server.process.pid!;
    const c = await RawClient.connect(server.port);
    const hash = createHash('sha256');
    try {
      c.send(`PUT /files/big.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ${TOTAL}\r\n\r\n`);
      // Incompressible bytes, each MiB stamped with its index so a lost,
      // repeated or reordered piece changes the hash.
      const base = randomBytes(MiB);
      for (let i = 0; i < TOTAL / MiB; i++) {
        const chunk = Buffer.from(base);
        chunk.writeUInt32BE(i, 0);
        hash.update(chunk);
        if (!c.socket.write(chunk)) await new Promise((r) => c.socket.once('drain', r));
      }
      const res = await c.readResponse({ timeoutMs: 120_000 });
      expect(res.status).toBe(201);
    } finally {
      c.close();
    }
    const peak = memory(pid).peak;
    const file = path.join(dir, 'big.bin');
    expect(statSync(file).size).toBe(TOTAL);
    expect(partials(dir)).toEqual([]);
    expect(await sha256File(file)).toBe(hash.digest('hex'));
    console.log(`${rt}: 1 GiB upload: server peak RSS ${mb(peak)} MB`);
    if (memoryBar) expect(mb(peak)).toBeLessThan(LIMIT_MB);
  }, 180_000);
});
