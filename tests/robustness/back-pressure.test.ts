// Back-pressure against the real server: clients that pipeline requests
// for large responses as fast as they can and never read. The server must
// stop reading them (their writes stall) instead of queuing requests or
// responses, its resident memory stays bounded, and it keeps answering
// other clients.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BUN_READS_WHILE_PAUSED, type RunningServer, startServer, testOnNodeOnly } from '../helpers/server';
import { request } from '../helpers/wire';

/** Most request bytes each hostile client tries to send. */
const REQUEST_BYTES = 64 * 1024 * 1024;
/** How long a write may wait for 'drain' before the client counts as stalled, in ms. */
const STALL_MS = 2000;

let server: RunningServer;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'backpressure-'));
  fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(1024 * 1024, 0x42));
  server = await startServer(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The server's resident set size in bytes (Linux /proc). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (m === null) throw new Error('no VmRSS');
  return Number(m[1]) * 1024;
}

/**
 * Connects and writes `request` over and over without ever reading,
 * until `REQUEST_BYTES` are written or a write waits `STALL_MS` for drain.
 * @returns the socket (still open) and how many bytes it wrote.
 */
async function flood(requestBytes: string): Promise<{ socket: net.Socket; written: number; stalled: boolean }> {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => undefined);
  await new Promise((r) => socket.once('connect', r));
  socket.pause(); // never read
  const batch = Buffer.from(requestBytes.repeat(Math.ceil(64 * 1024 / requestBytes.length)), 'latin1');
  let written = 0;
  while (written < REQUEST_BYTES) {
    written += batch.length;
    if (!socket.write(batch)) {
      let timer: NodeJS.Timeout | undefined;
      const drained = await new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), STALL_MS);
        socket.once('drain', () => resolve(true));
      });
      clearTimeout(timer);
      if (!drained) return { socket, written, stalled: true };
    }
  }
  return { socket, written, stalled: false };
}

// Node only: see BUN_READS_WHILE_PAUSED.
testOnNodeOnly(BUN_READS_WHILE_PAUSED)('clients that pipeline and never read stall, memory stays bounded, others are served', async () => {
  const pid = server.process.pid!;
  await request(server.port, 'GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n'); // warm up
  const before = rss(pid);
  const floods = await Promise.all([
    flood('GET /files/big.bin HTTP/1.1\r\nHost: x\r\n\r\n'), // 1 MiB streamed per 40-byte request
    flood(`GET /echo/${'e'.repeat(4000)} HTTP/1.1\r\nHost: x\r\n\r\n`), // answered from memory
    flood('GET /user-agent HTTP/1.1\r\nHost: x\r\nUser-Agent: flood\r\n\r\n'), // many tiny answers
  ]);
  try {
    for (const f of floods) {
      expect(f.stalled).toBe(true); // the server stopped reading it
      expect(f.written).toBeLessThan(REQUEST_BYTES / 2);
    }
    const during = rss(pid);
    expect(during - before).toBeLessThan(64 * 1024 * 1024);
    const res = await request(server.port, 'GET /echo/still-here HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(res.body.toString()).toBe('still-here');
  } finally {
    for (const f of floods) f.socket.destroy();
  }
  expect(server.process.exitCode).toBeNull();
}, 60_000);
