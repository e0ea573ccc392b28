// Files are streamed with back-pressure, never read whole, under Node and
// under Bun alike (the server runs under each in turn).
// - 20 clients on a 1 GiB file at once (reading fully, slowly, from an
//   offset, or not at all) keep the server's resident memory under 150 MB
//   (peak resident, VmHWM, so a short burst between samples counts too).
//   The file is sparse, so it needs no real disk space.
// - A client that stops reading a gzip-coded file stops the server reading
//   the file: coding as a stream keeps back-pressure. (Random text here:
//   zeros would compress a thousandfold and fill any buffer.)
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import zlib from 'node:zlib';
import { type RunningServer, type Runtime, startServer } from '../helpers/server';
import { mb, memory } from '../memory/process-status';
import { send, tempDir } from './support';

const GIB = 1024 * 1024 * 1024;
const LIMIT_MB = 150;
let dir: string;

beforeAll(() => {
  dir = tempDir('memory');
  fs.closeSync(fs.openSync(path.join(dir, 'big.bin'), 'w'));
  fs.truncateSync(path.join(dir, 'big.bin'), GIB);
  const fd = fs.openSync(path.join(dir, 'text.txt'), 'w');
  for (let i = 0; i < 32; i++) fs.writeSync(fd, randomBytes(768 * 1024).toString('base64')); // 1 MiB each
  fs.closeSync(fd);
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

type Pace = 'full' | 'slow' | 'stalled';

/** A client that sends one GET and reads at `pace`; counts bytes received. */
class Reader {
  received = 0;
  done: Promise<void>;
  private readonly socket: net.Socket;

  constructor(port: number, target: string, headers: string, pace: Pace) {
    this.socket = net.connect(port, '127.0.0.1', () => {
      this.socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${headers}\r\n`);
      if (pace === 'stalled') this.socket.pause(); // never reads: the server must stop sending
    });
    let sincePause = 0;
    this.socket.on('data', (d: Buffer) => {
      this.received += d.length;
      sincePause += d.length;
      if (pace === 'slow' && sincePause >= 4 * 1024 * 1024) {
        sincePause = 0;
        this.socket.pause();
        setTimeout(() => this.socket.resume(), 300);
      }
    });
    this.done = new Promise((resolve) => this.socket.on('close', () => resolve()));
    this.socket.on('error', () => undefined);
  }

  stop(): void {
    this.socket.destroy();
  }
}

/** Bytes the server process has read through read(2) and friends (Linux /proc). */
function bytesRead(pid: number): number {
  return Number(/^rchar: (\d+)$/m.exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
}

describe.each<Runtime>(['node', 'bun'])('server under %s', (rt) => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer(['--directory', dir], rt);
  });
  afterAll(() => server.stop());

  test('20 clients on a 1 GiB file keep the server under 150 MB resident', async () => {
    const pid = server.process.pid!;
    const before = memory(pid);
    const readers: Reader[] = [];
    const add = (n: number, target: string, headers: string, pace: Pace) => {
      for (let i = 0; i < n; i++) readers.push(new Reader(server.port, target, headers, pace));
    };
    add(2, '/files/big.bin', '', 'full');
    add(10, '/files/big.bin', '', 'slow');
    add(4, '/files/big.bin', '', 'stalled');
    add(4, '/files/big.bin', 'Range: bytes=1000-\r\n', 'slow');
    expect(readers).toHaveLength(20);
    try {
      const full = readers.slice(0, 2);
      // Generous: under Bun on a busy machine the two full reads took 50 s.
      const deadline = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('full readers did not finish in 150 s')), 150_000).unref());
      await Promise.race([Promise.all(full.map((r) => r.done)), deadline]);
      for (const r of full) expect(r.received).toBeGreaterThan(GIB); // the whole file, plus the head
      for (const r of full) expect(r.received).toBeLessThan(GIB + 1024);
      for (const r of readers.slice(2, 12)) expect(r.received).toBeGreaterThan(4 * 1024 * 1024); // slow, but moving
      for (const r of readers.slice(16, 20)) expect(r.received).toBeGreaterThan(4 * 1024 * 1024);
    } finally {
      for (const r of readers) r.stop();
    }
    const after = memory(pid);
    console.log(`${rt}: 20 clients on a 1 GiB file: server peak RSS ${mb(after.peak)} MB (${mb(before.rss)} MB before, ${mb(after.rss)} MB after)`);
    expect(mb(after.peak)).toBeLessThan(LIMIT_MB);
    // The server is still serving after the crowd left.
    expect((await send(server.port, '/files/big.bin', {}, 'HEAD')).header('Content-Length')).toBe(String(GIB));
  }, 180_000);

  test('a client that stops reading a gzip-coded file stops the server reading it', async () => {
    const pid = server.process.pid!;
    const size = fs.statSync(path.join(dir, 'text.txt')).size;
    const before = bytesRead(pid);
    const parts: Buffer[] = [];
    const socket = net.connect(server.port, '127.0.0.1', () => {
      socket.write('GET /files/text.txt HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n');
      socket.pause(); // stop reading: socket buffers fill, then the server must stop
    });
    socket.on('data', (d: Buffer) => parts.push(d));
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise((r) => setTimeout(r, 1500));
    const readWhileStalled = bytesRead(pid) - before;
    // Kernel socket buffers hold some megabytes of coded output; the rest of the file must wait.
    expect(readWhileStalled).toBeLessThan(size * 0.75);
    socket.resume();
    await closed;
    const raw = Buffer.concat(parts);
    const split = raw.indexOf('\r\n\r\n');
    expect(raw.subarray(0, split).toString()).toMatch(/\r\nTransfer-Encoding: chunked\r\n/i);
    const body = dechunk(raw.subarray(split + 4));
    expect(zlib.gunzipSync(body).equals(fs.readFileSync(path.join(dir, 'text.txt')))).toBe(true);
  });
});

/** Decodes chunked transfer coding (RFC 9112 §7.1) from a complete message body. */
function dechunk(data: Buffer): Buffer {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const lf = data.indexOf('\r\n', pos);
    const size = parseInt(data.subarray(pos, lf).toString('latin1'), 16);
    if (size === 0) return Buffer.concat(out);
    out.push(data.subarray(lf + 2, lf + 2 + size));
    pos = lf + 2 + size + 2;
  }
}
