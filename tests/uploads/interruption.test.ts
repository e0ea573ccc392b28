// Broken uploads leave the previous file as it was and no partial file:
// a client that disconnects mid-body (raw socket, and a real curl killed
// with SIGKILL), a body over --max-body-size (413), a stalled body (408),
// and a server killed mid-upload.
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { launch, partials, removeScratch, scratch, send, tree, waitFor } from './helpers';

const OLD = 'the previous version, which must survive\n';
const MiB = 1024 * 1024;

/** Waits until the server has written at least `bytes` into a partial file under `dir`. */
async function partialGrows(dir: string, bytes: number): Promise<void> {
  await waitFor(() => partials(dir).some((p) => statSync(path.join(dir, p)).size >= bytes), `a partial file of ${bytes} bytes`, 10_000);
}

describe('interrupted uploads', () => {
  let server: RunningServer;
  let dir: string;
  let src: string;
  beforeAll(async () => {
    dir = scratch();
    src = scratch('upload-src-');
    server = await launch(['--directory', dir, '--max-body-size', String(4 * MiB), '--body-timeout', '800']);
  });
  afterAll(async () => {
    await server.stop();
    removeScratch(dir);
    removeScratch(src);
  });
  beforeEach(() => writeFileSync(path.join(dir, 'f.txt'), OLD));
  afterEach(async () => {
    // Cleanup is asynchronous after a disconnect: wait for it, then check.
    await waitFor(() => partials(dir).length === 0, 'the partial file to be removed');
    expect(readFileSync(path.join(dir, 'f.txt'), 'utf8')).toBe(OLD);
  });

  test('a client that disconnects mid-body (Content-Length) leaves the old file and no partial', async () => {
    const c = await RawClient.connect(server.port);
    c.send(`PUT /files/f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: ${3 * MiB}\r\n\r\n`);
    c.send(Buffer.alloc(MiB, 0x61));
    await partialGrows(dir, 256 * 1024);
    c.close();
  });

  test('a client that disconnects mid-chunk leaves the old file and no partial', async () => {
    const c = await RawClient.connect(server.port);
    c.send(`PUT /files/f.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${(2 * MiB).toString(16)}\r\n`);
    c.send(Buffer.alloc(MiB, 0x62));
    await partialGrows(dir, 256 * 1024);
    c.close();
  });

  test('a curl killed with SIGKILL mid-upload leaves the old file and no partial, new folders included', async () => {
    const big = path.join(src, 'big.bin');
    writeFileSync(big, Buffer.alloc(3 * MiB, 0x63));
    const before = tree(dir);
    const curl = spawn('curl', ['-sS', '--limit-rate', '512K', '-T', big, `http://127.0.0.1:${server.port}/files/f.txt`], { stdio: 'ignore' });
    const curlNested = spawn('curl', ['-sS', '--limit-rate', '512K', '-T', big, `http://127.0.0.1:${server.port}/files/brand/new/f.txt`], {
      stdio: 'ignore',
    });
    const exited = Promise.all([curl, curlNested].map((p) => new Promise((r) => p.once('exit', r))));
    await waitFor(() => partials(dir).length === 2, 'both uploads to start', 10_000);
    await partialGrows(dir, 128 * 1024);
    curl.kill('SIGKILL');
    curlNested.kill('SIGKILL');
    await exited;
    // The server cleans up after it notices the disconnect: the partial
    // files first, then the folders it made for them. Wait for both.
    await waitFor(() => partials(dir).length === 0, 'the partial files to be removed');
    await waitFor(() => JSON.stringify(tree(dir)) === JSON.stringify(before), 'the new folders to be removed').catch(() => undefined);
    expect(tree(dir)).toEqual(before);
  });

  test('a Content-Length over --max-body-size is 413 before anything is written', async () => {
    const res = await send(server.port, 'PUT', '/files/f.txt', Buffer.alloc(4 * MiB + 1, 0x64));
    expect(res.status).toBe(413);
  });

  test('chunked content that grows over --max-body-size is 413 and leaves the old file', async () => {
    const c = await RawClient.connect(server.port);
    c.send(`PUT /files/f.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const chunk = Buffer.concat([Buffer.from(`${MiB.toString(16)}\r\n`), Buffer.alloc(MiB, 0x65), Buffer.from('\r\n')]);
    for (let i = 0; i < 5 && !c.closedByServer; i++) {
      c.send(chunk);
      await new Promise((r) => setTimeout(r, 20));
    }
    const res = await c.readResponse();
    expect(res.status).toBe(413);
    c.close();
  });

  test('content of exactly --max-body-size is accepted', async () => {
    const body = Buffer.alloc(4 * MiB, 0x66);
    const res = await send(server.port, 'PUT', '/files/limit.bin', body);
    expect(res.status).toBe(201);
    expect(statSync(path.join(dir, 'limit.bin')).size).toBe(4 * MiB);
  });

  test('a stalled body is 408 after --body-timeout and leaves the old file', async () => {
    const c = await RawClient.connect(server.port);
    c.send(`PUT /files/f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n`);
    c.send(Buffer.alloc(400, 0x67));
    const res = await c.readResponse({ timeoutMs: 8000 });
    expect(res.status).toBe(408);
    await c.expectClosed();
    c.close();
  });
});

test('a server killed mid-upload leaves the old file intact and only a hidden partial', async () => {
  const dir = scratch();
  writeFileSync(path.join(dir, 'f.txt'), OLD);
  let server = await launch(['--directory', dir]);
  try {
    const c = await RawClient.connect(server.port);
    c.send(`PUT /files/f.txt HTTP/1.1\r\nHost: x\r\nContent-Length: ${8 * MiB}\r\n\r\n`);
    c.send(Buffer.alloc(2 * MiB, 0x68));
    await partialGrows(dir, 256 * 1024);
    server.process.kill('SIGKILL');
    await new Promise((r) => server.process.once('exit', r));
    c.close();
    expect(readFileSync(path.join(dir, 'f.txt'), 'utf8')).toBe(OLD);
    // The only trace is a dot-prefixed temporary file, never the target name.
    const left = readdirSync(dir).filter((n) => n !== 'f.txt');
    expect(left.length).toBe(1);
    expect(left[0]).toMatch(/^\.upload-[0-9a-f]+\.partial$/);
    // A restarted server serves the old file and hides the leftover.
    server = await launch(['--directory', dir]);
    const old = await send(server.port, 'GET', '/files/f.txt');
    expect(old.body.toString()).toBe(OLD);
    expect((await send(server.port, 'GET', `/files/${left[0]}`)).status).toBe(404);
    expect((await send(server.port, 'PUT', '/files/f.txt', 'after the crash')).status).toBe(204);
    expect(readFileSync(path.join(dir, 'f.txt'), 'utf8')).toBe('after the crash');
  } finally {
    await server.stop();
    removeScratch(dir);
  }
});
