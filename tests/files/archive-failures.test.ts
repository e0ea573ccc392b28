// Folder downloads when things go wrong (issue 10): a client that goes away
// mid-archive stops the walk and every file it opened is closed (counted in
// /proc/<pid>/fd), the server answers the next request; a file that shrinks
// mid-entry cuts the download rather than send a wrong entry; what the
// server may not read (EACCES) is left out and the archive goes on.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { treeOf, unpack } from './archive-support';
import { send, tempDir } from './support';

let base: string;

beforeAll(() => {
  base = tempDir('archive-failures');
});
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** The server's open descriptors: fd number → what it points to. */
function openDescriptors(pid: number): Map<string, string> {
  const fds = new Map<string, string>();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      fds.set(fd, fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed between the listing and the readlink
    }
  }
  return fds;
}

/** Polls `check` every 50 ms until it returns true, for up to `ms`. */
async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) if (check()) return true;
  return check();
}

describe('a client that disconnects mid-archive', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = path.join(base, 'big');
    fs.mkdirSync(dir);
    const block = randomBytes(1024 * 1024);
    for (let f = 0; f < 4; f++) {
      const fd = fs.openSync(path.join(dir, `part ${f}.bin`), 'w');
      for (let i = 0; i < 32; i++) fs.writeSync(fd, block);
      fs.closeSync(fd);
    }
    fs.writeFileSync(path.join(dir, 'small.txt'), 'still served\n');
    server = await startServer(['--directory', dir]);
  });
  afterAll(() => server.stop());

  test.each(['zip', 'tar'])('(?%s) leaves no descriptor open and the server healthy', async (format) => {
    const pid = server.process.pid!;
    // Warm up (archiver is loaded on the first archive), then count.
    expect((await send(server.port, '/files/small.txt')).status).toBe(200);
    const before = openDescriptors(pid);
    const intoFolder = () => [...openDescriptors(pid).values()].filter((p) => p.startsWith(`${dir}/`));

    const socket = net.connect(server.port, '127.0.0.1');
    socket.write(`GET /files/?${format} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    let received = 0;
    await new Promise<void>((resolve, reject) => {
      socket.on('data', (d: Buffer) => {
        received += d.length;
        if (received >= 3 * 1024 * 1024) {
          socket.pause(); // the server's writes block; the archive is mid-file
          resolve();
        }
      });
      socket.on('error', reject);
    });
    // While it streams, the server holds a file of the folder open: what the count below must see closed.
    expect(await eventually(() => intoFolder().length > 0, 2000)).toBe(true);
    socket.destroy();

    expect(await eventually(() => intoFolder().length === 0 && openDescriptors(pid).size <= before.size, 5000)).toBe(true);
    expect(intoFolder()).toEqual([]);
    expect(openDescriptors(pid).size).toBeLessThanOrEqual(before.size);
    const next = await send(server.port, '/files/small.txt');
    expect(next.status).toBe(200);
    expect(next.body.toString()).toBe('still served\n');
  });
});

describe('a file that shrinks while it is archived', () => {
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = path.join(base, 'shrinking');
    fs.mkdirSync(dir);
    server = await startServer(['--directory', dir]);
  });
  afterAll(() => server.stop());

  test.each(['zip', 'tar'])('(?%s) cuts the connection (no wrong entry), and the server stays healthy', async (format) => {
    const file = path.join(dir, 'growing.log');
    const block = randomBytes(1024 * 1024);
    const fd = fs.openSync(file, 'w');
    for (let i = 0; i < 64; i++) fs.writeSync(fd, block);
    fs.closeSync(fd);
    const socket = net.connect(server.port, '127.0.0.1');
    socket.write(`GET /files/?${format} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    const chunks: Buffer[] = [];
    let received = 0;
    let held = false;
    const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    await new Promise<void>((resolve) => {
      socket.on('data', (d: Buffer) => {
        chunks.push(d);
        received += d.length;
        if (received >= 1024 * 1024 && !held) {
          held = true;
          socket.pause();
          resolve();
        }
      });
    });
    // The server has read a few MiB at most (our pause holds it back): cut the file far below its 64 MiB.
    fs.truncateSync(file, 24 * 1024 * 1024);
    socket.resume();
    await closed;
    const raw = Buffer.concat(chunks);
    expect(raw.toString('latin1', 0, 15)).toBe('HTTP/1.1 200 OK');
    expect(raw.subarray(-5).toString('latin1')).not.toBe('0\r\n\r\n'); // no last-chunk: the download is visibly incomplete
    expect(raw.length).toBeLessThan(64 * 1024 * 1024);
    const next = await send(server.port, '/files/growing.log', {}, 'HEAD');
    expect(next.header('Content-Length')).toBe(String(24 * 1024 * 1024));
    expect([...openDescriptors(server.process.pid!).values()].filter((p) => p.startsWith(`${dir}/`))).toEqual([]);
  });
});

describe('files the server may not read', () => {
  // Root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH is bound by
  // permission bits like any user (as in tests/uploads/disk-errors.test.ts).
  const noBypass = ['setpriv', '--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search'];
  let dir: string;
  let server: RunningServer;
  beforeAll(async () => {
    dir = path.join(base, 'locked');
    fs.mkdirSync(path.join(dir, 'shut folder'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'readable.txt'), 'readable\n');
    fs.writeFileSync(path.join(dir, 'shut.txt'), 'no access\n');
    fs.writeFileSync(path.join(dir, 'shut folder', 'inside.txt'), 'no access\n');
    // Someone else's files: the server (root, as "other") may not read them.
    for (const p of ['shut.txt', 'shut folder/inside.txt', 'shut folder']) fs.chownSync(path.join(dir, p), 65534, 65534);
    fs.chmodSync(path.join(dir, 'shut.txt'), 0o600);
    fs.chmodSync(path.join(dir, 'shut folder'), 0o700);
    server = await startServer(['--directory', dir], undefined, { wrapper: noBypass });
  });
  afterAll(() => server.stop());

  test.each(['zip', 'tar'] as const)('?%s leaves them out and archives the rest', async (format) => {
    // The premise: the server really may not read them.
    expect((await send(server.port, '/files/shut.txt')).status).toBe(403);
    const res = await send(server.port, `/files/?${format}`);
    expect(res.status).toBe(200);
    expect(Object.keys(treeOf(unpack(format, res.body, base))).sort()).toEqual(['locked', 'locked/readable.txt']);
  });
});
