// Stage at4 "Bind to a port": started with no options the server listens on
// port 4221 and accepts connections from localhost over IPv4 and IPv6.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

const DEFAULT_PORT = 4221;
const LOCK = path.join(os.tmpdir(), `http-server-tests-port-${DEFAULT_PORT}.lock`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The Node and Bun jest projects run this file in parallel; both want the
 * fixed port 4221, so they take turns through a lock directory (removed if
 * the process that made it is gone).
 */
async function withPortLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 25_000;
  for (;;) {
    try {
      fs.mkdirSync(LOCK);
      fs.writeFileSync(path.join(LOCK, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(fs.readFileSync(path.join(LOCK, 'pid'), 'latin1'));
      } catch {
        // being created or removed right now
      }
      if (Number.isInteger(owner) && owner > 0 && !alive(owner)) fs.rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`lock ${LOCK} on port ${DEFAULT_PORT} held for more than 25 s`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK, { recursive: true, force: true });
  }
}

async function getRootOver(port: number, host: string): Promise<string> {
  const c = await RawClient.connect(port, host);
  try {
    c.send('GET / HTTP/1.1\r\nHost: localhost:4221\r\n\r\n');
    const res = await c.readResponse();
    await c.expectOpenAndQuiet(50);
    return res.statusLine;
  } finally {
    c.close();
  }
}

test('with no options it listens on 4221 and localhost reaches it over IPv4 (127.0.0.1) and IPv6 (::1)', async () => {
  await withPortLock(async () => {
    let server: RunningServer;
    try {
      server = await startServer([], undefined, { defaults: true });
    } catch (e) {
      throw new Error(`port ${DEFAULT_PORT} must be free for this test (is another server running on it?)\n${(e as Error).message}`);
    }
    try {
      expect(server.port).toBe(DEFAULT_PORT);
      expect(server.output()).toMatch(/^Listening on http:\/\/localhost:4221 /m);
      expect(await getRootOver(DEFAULT_PORT, '127.0.0.1')).toBe('HTTP/1.1 200 OK');
      expect(await getRootOver(DEFAULT_PORT, '::1')).toBe('HTTP/1.1 200 OK');
    } finally {
      await server.stop();
    }
  });
});

describe('on an ephemeral port', () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(() => server.stop());

  test('the connection is accepted and stays open with nothing sent', async () => {
    const c = await RawClient.connect(server.port);
    await c.expectOpenAndQuiet(300);
    c.close();
  });

  test('many connections are accepted at once and each is served', async () => {
    const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.connect(server.port)));
    for (const c of clients) c.send('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n');
    for (const c of clients) expect((await c.readResponse()).statusLine).toBe('HTTP/1.1 200 OK');
    for (const c of clients) c.close();
  });

  test('a second server on a port already taken exits non-zero with one clear line, no stack trace', async () => {
    const err = await startServer(['--port', String(server.port)]).then(
      async (s) => {
        await s.stop();
        throw new Error('a second server listened on a busy port');
      },
      (e: Error) => e.message,
    );
    expect(err).toMatch(/exited with [1-9]\d* before listening/);
    expect(err).toContain(`cannot listen on port ${server.port}: EADDRINUSE`);
    expect(err).not.toMatch(/^\s+at /m);
  });
});
