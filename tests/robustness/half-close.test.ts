// A client that half-closes (sends FIN) right after its requests still gets
// every answer, from synchronous routes (/echo) and asynchronous ones (a
// file read), then the server closes (RFC 9112 §9.6: a half-close is not an
// abort). Against the real server, under Node and, in the bun project, Bun.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

let server: RunningServer;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'half-close-'));
  fs.writeFileSync(path.join(dir, 'a.txt'), 'file content\n');
  server = await startServer(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const GET = (target: string) => `GET ${target} HTTP/1.1\r\nHost: t\r\n\r\n`;

test.each([
  ['an asynchronous route (a file)', ['/files/a.txt'], ['file content\n']],
  ['a synchronous route (/echo)', ['/echo/abc'], ['abc']],
  ['pipelined requests to both', ['/files/a.txt', '/echo/one', '/files/a.txt'], ['file content\n', 'one', 'file content\n']],
])('FIN after %s: every response arrives whole, then the server closes', async (_what, targets, bodies) => {
  const c = await RawClient.connect(server.port);
  c.send(targets.map(GET).join(''));
  c.socket.end();
  for (const body of bodies) {
    const res = await c.readResponse();
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe(body);
  }
  await c.expectClosed();
});
