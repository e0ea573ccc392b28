// Zipping a 1 GiB folder keeps the server under 150 MB resident (issue 10):
// the archive is built while it is sent, and only as fast as the client
// reads it. The client here reads 4 MiB, then stops for 80 ms (at most about
// 50 MB/s, slower than the server zips stored files), so the server's writes
// block and back-pressure must hold the walk back: without it the server
// grew past 300 MB. About 25 s on a loaded 2-core machine.
// A zip of many small files stays under the same bound: its central
// directory, written at the end, once made a spike of tiny chunks.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { tempDir } from '../files/support';
import { mb, memory } from './process-status';

const LIMIT_MB = 150;
const FILES = 4;
const FILE_MIB = 256;
/** The client stops reading for `PAUSE_MS` after every `BURST` bytes. */
const BURST = 4 * 1024 * 1024;
const PAUSE_MS = 80;

const SMALL_FILES = 12_000;

let dir: string;

beforeAll(async () => {
  dir = tempDir('archive-memory');
  // 1 GiB that deflate cannot shrink (a random 1 MiB block, repeated beyond its 32 KiB window), written fast.
  const block = randomBytes(1024 * 1024);
  fs.mkdirSync(path.join(dir, 'big'));
  for (let f = 0; f < FILES; f++) {
    const fd = fs.openSync(path.join(dir, 'big', `part-${f}.bin`), 'w');
    for (let i = 0; i < FILE_MIB; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
  }
  fs.mkdirSync(path.join(dir, 'small'));
  for (let i = 0; i < SMALL_FILES; i++) fs.writeFileSync(path.join(dir, 'small', `note-${i}.txt`), `note ${i}\n`.repeat(40));
}, 120_000);
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs `fn` against a fresh server (so its peak memory is this test's alone), then stops it. */
async function withServer(fn: (server: RunningServer) => Promise<void>): Promise<void> {
  const server = await startServer(['--directory', dir]);
  try {
    await fn(server);
  } finally {
    await server.stop();
  }
}

/**
 * Reads the response to `GET target` with pauses, undoing the chunked
 * framing as it goes (RFC 9112 §7.1).
 * @returns the archive's size in bytes, its last 64 KiB, and whether the last-chunk came.
 */
function readSlowly(port: number, target: string): Promise<{ bytes: number; tail: Buffer; complete: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.write(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
    let bytes = 0;
    let sinceBreak = 0;
    let tail: Buffer = Buffer.alloc(0);
    let pending: Buffer = Buffer.alloc(0);
    let state: 'head' | 'size' | 'data' | 'crlf' | 'done' = 'head';
    let left = 0;
    const content = (d: Buffer) => {
      bytes += d.length;
      tail = d.length >= 64 * 1024 ? d.subarray(-64 * 1024) : Buffer.concat([tail, d]).subarray(-64 * 1024);
    };
    socket.on('data', (d: Buffer) => {
      pending = pending.length === 0 ? d : Buffer.concat([pending, d]);
      for (;;) {
        if (state === 'head' || state === 'size') {
          const end = pending.indexOf(state === 'head' ? '\r\n\r\n' : '\r\n');
          if (end === -1) break;
          if (state === 'head') {
            if (!/^HTTP\/1\.1 200 [^]*\r\ntransfer-encoding: chunked\r\n/i.test(pending.toString('latin1', 0, end + 2))) return reject(new Error('not a 200 chunked response'));
            pending = pending.subarray(end + 4);
            state = 'size';
            continue;
          }
          left = parseInt(pending.toString('latin1', 0, end), 16);
          pending = pending.subarray(end + 2);
          state = left === 0 ? 'done' : 'data';
          if (state === 'done') break;
        } else if (state === 'data') {
          if (pending.length === 0) break;
          const n = Math.min(left, pending.length);
          content(pending.subarray(0, n));
          pending = pending.subarray(n);
          left -= n;
          if (left === 0) state = 'crlf';
        } else if (state === 'crlf') {
          if (pending.length < 2) break;
          pending = pending.subarray(2);
          state = 'size';
        } else break;
      }
      sinceBreak += d.length;
      if (sinceBreak >= BURST) {
        sinceBreak = 0;
        socket.pause();
        setTimeout(() => socket.resume(), PAUSE_MS);
      }
    });
    socket.on('end', () => resolve({ bytes, tail, complete: state === 'done' }));
    socket.on('error', reject);
  });
}

test(`zipping a ${FILES * FILE_MIB} MiB folder keeps the server under ${LIMIT_MB} MB resident`, () => withServer(async (server) => {
  const pid = server.process.pid!;
  const before = memory(pid);
  const start = Date.now();
  let sampled = 0;
  const sampler = setInterval(() => (sampled = Math.max(sampled, memory(pid).rss)), 200);
  const { bytes, tail, complete } = await readSlowly(server.port, '/files/big/?zip').finally(() => clearInterval(sampler));
  const seconds = (Date.now() - start) / 1000;
  const after = memory(pid);
  console.log(
    `zip of ${FILES * FILE_MIB} MiB: ${mb(bytes)} MB in ${seconds.toFixed(1)} s (${(bytes / 1e6 / seconds).toFixed(0)} MB/s); ` +
      `server RSS before ${mb(before.rss)} MB, highest sampled ${mb(sampled)} MB, peak ${mb(after.peak)} MB`,
  );
  // The whole archive came: every file stored (1 GiB of content and more), and the chunked body ended.
  expect(complete).toBe(true);
  expect(bytes).toBeGreaterThan(FILES * FILE_MIB * 1024 * 1024);
  // It ends with its end-of-central-directory record (22 bytes, no comment), which counts the top folder and the files.
  const eocd = tail.subarray(-22);
  expect(eocd.readUInt32LE(0)).toBe(0x06054b50);
  expect(eocd.readUInt16LE(10)).toBe(FILES + 1);
  expect(mb(after.peak)).toBeLessThan(LIMIT_MB);
}), 180_000);

test(`zipping ${SMALL_FILES.toLocaleString('en-US')} small files keeps the server under ${LIMIT_MB} MB resident`, () => withServer(async (server) => {
  const pid = server.process.pid!;
  const start = Date.now();
  const { bytes, tail, complete } = await readSlowly(server.port, '/files/small/?zip');
  const after = memory(pid);
  console.log(`zip of ${SMALL_FILES} small files: ${mb(bytes)} MB in ${((Date.now() - start) / 1000).toFixed(1)} s; server RSS peak ${mb(after.peak)} MB`);
  expect(complete).toBe(true);
  expect(tail.subarray(-22).readUInt16LE(10)).toBe(SMALL_FILES + 1);
  expect(mb(after.peak)).toBeLessThan(LIMIT_MB);
}), 180_000);
