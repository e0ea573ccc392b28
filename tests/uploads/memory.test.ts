// A 1 GiB upload is streamed to disk: the server's resident memory stays
// under 150 MB, and the stored file has exactly the bytes sent.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import path from 'node:path';
import type { RunningServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { launch, partials, removeScratch, rss, scratch } from './helpers';

const MiB = 1024 * 1024;
const TOTAL = 1024 * MiB;
const LIMIT = 150 * 1000 * 1000;

let server: RunningServer;
let dir: string;
beforeAll(async () => {
  dir = scratch();
  server = await launch(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  removeScratch(dir);
});

async function sha256File(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: MiB })) h.update(chunk as Buffer);
  return h.digest('hex');
}

test('a 1 GiB upload completes with the server under 150 MB resident, byte for byte', async () => {
  const pid = server.process.pid!;
  let peak = rss(pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rss(pid))), 50);
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
    clearInterval(sampler);
    c.close();
  }
  peak = Math.max(peak, rss(pid));
  const file = path.join(dir, 'big.bin');
  expect(statSync(file).size).toBe(TOTAL);
  expect(partials(dir)).toEqual([]);
  expect(await sha256File(file)).toBe(hash.digest('hex'));
  console.log(`1 GiB upload: server peak RSS ${(peak / MiB).toFixed(1)} MiB`);
  expect(peak).toBeLessThan(LIMIT);
}, 180_000);
