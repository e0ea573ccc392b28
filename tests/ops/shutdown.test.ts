// Graceful shutdown over real sockets (issue 8): the first SIGTERM stops
// accepting, closes idle connections at once and lets exchanges in flight
// finish with `Connection: close`; a second signal, or --shutdown-timeout,
// cuts the rest, and an upload cut short leaves no file and no temporary file.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { partials, removeScratch, scratch, waitFor } from '../uploads/helpers';

const MiB = 1024 * 1024;

/** A GET whose response the client does not read until told to: a slow download. */
class SlowDownload {
  private chunks: Buffer[] = [];
  private readonly ended: Promise<void>;
  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => this.chunks.push(d));
    this.ended = new Promise((resolve) => socket.once('close', () => resolve()));
  }
  static async start(port: number, target: string): Promise<SlowDownload> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    socket.on('error', () => undefined); // a forced stop resets it
    const d = new SlowDownload(socket);
    socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\n\r\n`);
    await waitFor(() => d.chunks.length > 0, 'the first bytes of the download');
    socket.pause(); // stop reading: the server's writes back up
    return d;
  }
  /** Reads everything until the server closes; returns the head (text) and the content. */
  async finish(): Promise<{ head: string; body: Buffer }> {
    this.socket.resume();
    await this.ended;
    const all = Buffer.concat(this.chunks);
    const end = all.indexOf('\r\n\r\n');
    return { head: all.subarray(0, end).toString('latin1'), body: all.subarray(end + 4) };
  }
}

/** Resolves with the server's exit code and the ms from `since` to its exit. */
function exited(server: RunningServer, since: () => number): Promise<{ code: number | null; ms: number }> {
  return new Promise((resolve) => {
    if (server.process.exitCode !== null) resolve({ code: server.process.exitCode, ms: 0 });
    server.process.once('exit', (code) => resolve({ code, ms: Date.now() - since() }));
  });
}

function refused(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

describe('graceful shutdown', () => {
  let dir: string;
  let big: Buffer;
  let server: RunningServer | undefined;
  beforeAll(() => {
    dir = scratch('shutdown-');
    big = randomBytes(20 * MiB);
    writeFileSync(path.join(dir, 'big.bin'), big);
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  afterAll(() => removeScratch(dir));

  test('the first SIGTERM closes idle connections, refuses new ones, and lets a download and an upload finish', async () => {
    const log = path.join(dir, 'access.log');
    server = await startServer(['--directory', dir, '--access-log', log]);
    const s = server;
    const idle = await RawClient.connect(s.port);
    idle.send('GET /echo/hi HTTP/1.1\r\nHost: x\r\n\r\n');
    expect((await idle.readResponse()).status).toBe(200);
    const download = await SlowDownload.start(s.port, '/files/big.bin');
    const upload = await RawClient.connect(s.port);
    upload.send('PUT /files/late.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhello');
    await waitFor(() => existsSync(dir) && partials(dir).length === 1, 'the upload to start');

    let t0 = 0;
    const exit = exited(s, () => t0);
    t0 = Date.now();
    s.process.kill('SIGTERM');
    await waitFor(() => s.output().includes('shutting down'), 'the shutdown message');
    await idle.expectClosed(1000); // idle keep-alive: closed at once
    expect(await refused(s.port)).toBe('ECONNREFUSED');

    // The upload in flight completes, its response says the connection closes.
    upload.send('world');
    const res = await upload.readResponse();
    expect(res.status).toBe(201);
    expect(res.header('connection')).toBe('close');
    await upload.expectClosed(1000);
    expect(readFileSync(path.join(dir, 'late.txt'), 'utf8')).toBe('helloworld');

    expect(s.process.exitCode).toBeNull(); // still waiting for the download
    const { head, body } = await download.finish();
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    expect(body.length).toBe(big.length);
    expect(body.equals(big)).toBe(true);
    expect((await exit).code).toBe(0);

    const out = s.output();
    expect(out).toMatch(/SIGTERM: shutting down; no longer accepting connections; waiting up to 30000 ms for 2 exchanges in flight/);
    expect(out).toContain('GET /files/big.bin from 127.0.0.1:');
    expect(out).toContain('press Ctrl+C again');
    expect(partials(dir)).toEqual([]);
    // The access log is written out before the exit, the download's line last.
    const lines = readFileSync(log, 'latin1').trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[2]).toContain(`"GET /files/big.bin HTTP/1.1" 200 ${big.length + head.length + 4} `);
  });

  test('a second signal cuts everything within a second; the cut upload leaves no file and no temporary file', async () => {
    server = await startServer(['--directory', dir]);
    const s = server;
    const download = await SlowDownload.start(s.port, '/files/big.bin');
    const upload = await RawClient.connect(s.port);
    upload.send(`PUT /files/cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ${4 * MiB}\r\n\r\n`);
    upload.send(Buffer.alloc(MiB, 0x61));
    await waitFor(() => partials(dir).length === 1, 'the upload to start');

    s.process.kill('SIGTERM');
    await waitFor(() => s.output().includes('shutting down'), 'the shutdown message');
    await new Promise((r) => setTimeout(r, 200));
    expect(s.process.exitCode).toBeNull();
    let t0 = 0;
    const exit = exited(s, () => t0);
    t0 = Date.now();
    s.process.kill('SIGTERM');
    const { code, ms } = await exit;
    expect(ms).toBeLessThan(1000);
    expect(code).toBe(143);
    expect(s.output()).toContain('SIGTERM again: closing 2 exchanges in flight now');
    expect(partials(dir)).toEqual([]);
    expect(existsSync(path.join(dir, 'cut.bin'))).toBe(false);
    const { body } = await download.finish();
    expect(body.length).toBeLessThan(big.length);
    upload.close();
  });

  test('--shutdown-timeout cuts what is still in flight and exits 0, leaving no partial upload', async () => {
    server = await startServer(['--directory', dir, '--shutdown-timeout', '500']);
    const s = server;
    const download = await SlowDownload.start(s.port, '/files/big.bin');
    const upload = await RawClient.connect(s.port);
    upload.send(`PUT /files/slow.bin HTTP/1.1\r\nHost: x\r\nContent-Length: ${4 * MiB}\r\n\r\n`);
    upload.send(Buffer.alloc(MiB, 0x62));
    await waitFor(() => partials(dir).length === 1, 'the upload to start');

    let t0 = 0;
    const exit = exited(s, () => t0);
    t0 = Date.now();
    s.process.kill('SIGINT');
    const { code, ms } = await exit;
    expect(code).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(450);
    expect(ms).toBeLessThan(3000);
    expect(s.output()).toContain('shutdown timeout (500 ms): closing 2 exchanges in flight now');
    expect(partials(dir)).toEqual([]);
    expect(existsSync(path.join(dir, 'slow.bin'))).toBe(false);
    await download.finish();
    upload.close();
  });
});
