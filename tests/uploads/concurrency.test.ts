// Concurrent uploads to one name leave exactly one of the bodies, never a
// mix; create-only uploads racing for a new name: one wins, one gets 412.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RunningServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { contents, launch, partials, removeScratch, scratch, waitFor } from './helpers';

const run = promisify(execFile);
const KiB = 1024;

let server: RunningServer;
let dir: string;
let src: string;
beforeAll(async () => {
  dir = scratch();
  src = scratch('upload-src-');
  server = await launch(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  removeScratch(dir);
  removeScratch(src);
});
afterEach(() => expect(partials(dir)).toEqual([]));

/** Starts a PUT of `length` bytes and returns the connection; the body is sent with {@link feed}. */
async function startPut(target: string, length: number, extra = ''): Promise<RawClient> {
  const c = await RawClient.connect(server.port);
  c.send(`PUT ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: ${length}\r\n${extra}\r\n`);
  return c;
}

/** Writes `data` and waits until the socket has taken it. */
function feed(c: RawClient, data: Buffer): Promise<void> {
  return new Promise((resolve) => (c.socket.write(data) ? resolve() : c.socket.once('drain', () => resolve())));
}

test.each([
  ['A finishes last', 0],
  ['B finishes last', 1],
  ['A finishes last again', 0],
  ['B finishes last again', 1],
])('two interleaved uploads to one name leave exactly one body (%s)', async (_name, last) => {
  const name = `/files/race-${last}-${Math.random().toString(36).slice(2)}.bin`;
  // Different lengths and bytes, so any mix, truncation or append shows.
  const bodies = [Buffer.alloc(768 * KiB, 0x41), Buffer.alloc(1280 * KiB, 0x42)];
  const clients = [await startPut(name, bodies[0]!.length), await startPut(name, bodies[1]!.length)];
  const piece = 64 * KiB;
  const sent = [0, 0];
  // Alternate pieces until both are one piece from done, so both temp files exist at once.
  for (let turn = 0; sent.some((s, i) => s < bodies[i]!.length - piece); turn++) {
    const i = turn % 2;
    if (sent[i]! >= bodies[i]!.length - piece) continue;
    await feed(clients[i]!, bodies[i]!.subarray(sent[i], sent[i]! + piece));
    sent[i]! += piece;
  }
  await waitFor(() => partials(dir).length === 2, 'both uploads to be in progress');
  const order = [1 - last, last];
  const statuses: number[] = [];
  for (const i of order) {
    await feed(clients[i]!, bodies[i]!.subarray(sent[i]));
    statuses.push((await clients[i]!.readResponse()).status);
    clients[i]!.close();
  }
  expect(statuses).toEqual([201, 204]);
  const stored = contents(path.join(dir, name.slice('/files/'.length)))!;
  // The one that finished last was renamed into place last.
  expect(stored.equals(bodies[last]!)).toBe(true);
});

test('create-only uploads racing for a new name: exactly one 201, the other 412', async () => {
  const name = 'claimed.txt';
  const bodies = [Buffer.alloc(300 * KiB, 0x61), Buffer.alloc(300 * KiB, 0x62)];
  const clients = await Promise.all(bodies.map((b) => startPut(`/files/${name}`, b.length, 'If-None-Match: *\r\n')));
  for (let i = 0; i < 2; i++) await feed(clients[i]!, bodies[i]!.subarray(0, 200 * KiB));
  await waitFor(() => partials(dir).length === 2, 'both uploads to be in progress');
  // Both passed the early check (no file yet); the commit decides.
  for (let i = 0; i < 2; i++) clients[i]!.socket.write(bodies[i]!.subarray(200 * KiB));
  const statuses = await Promise.all(clients.map((c) => c.readResponse().then((r) => r.status)));
  clients.forEach((c) => c.close());
  expect([...statuses].sort()).toEqual([201, 412]);
  const winner = statuses.indexOf(201);
  expect(contents(path.join(dir, name))!.equals(bodies[winner]!)).toBe(true);
});

test('eight curl uploads at once to one name: one 201, seven 204, one whole body stored', async () => {
  const files: Buffer[] = [];
  for (let i = 0; i < 8; i++) {
    // Each body is its index repeated, at a different length.
    const body = Buffer.alloc((200 + i * 37) * KiB, 0x30 + i);
    writeFileSync(path.join(src, `body-${i}`), body);
    files.push(body);
  }
  const url = `http://127.0.0.1:${server.port}/files/shared/target.bin`;
  const codes = await Promise.all(
    files.map((_, i) => run('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', '-T', path.join(src, `body-${i}`), url]).then((r) => r.stdout)),
  );
  expect([...codes].sort()).toEqual(['201', '204', '204', '204', '204', '204', '204', '204']);
  const stored = contents(path.join(dir, 'shared', 'target.bin'))!;
  expect(files.filter((f) => f.equals(stored)).length).toBe(1);
});
