// Concurrent uploads to one name leave exactly one of the bodies, never a
// mix; create-only uploads racing for a new name: one wins, one gets 412.
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { RunningServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { contents, launch, partials, removeScratch, scratch, tree, waitFor } from './helpers';

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

/**
 * Sends `PUT target` with `body` and `extra` header lines on `c` and
 * resolves with the status; the request is written in one piece.
 */
async function put(c: RawClient, target: string, body: string, extra = ''): Promise<number> {
  c.send(`PUT ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n${extra}\r\n${body}`);
  const res = await c.readResponse();
  c.close();
  return res.status;
}

// Issue 12 item 2: an upload that fails must not pull a new folder away
// from another upload that found it and is about to write there.
test('300 pairs of uploads into a new folder, one failing its precondition: every valid one succeeds, no stray folder', async () => {
  const base = `pairs-${Math.random().toString(36).slice(2)}`;
  const PAIRS = 300;
  const failures: string[] = [];
  const batch = 25; // pairs in flight at once
  for (let first = 0; first < PAIRS; first += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, PAIRS - first) }, async (_, k) => {
        const n = first + k;
        const [a, b] = await Promise.all([RawClient.connect(server.port), RawClient.connect(server.port)]);
        // Both requests leave in the same tick, so the server sees them together.
        const [failing, valid] = await Promise.all([
          put(a, `/files/${base}/r${n}/x`, 'failing', 'If-Match: "nope"\r\n'),
          put(b, `/files/${base}/r${n}/y`, `valid ${n}`),
        ]);
        if (failing !== 412 || valid !== 201) failures.push(`r${n}: ${failing} ${valid}`);
      }),
    );
  }
  expect(failures).toEqual([]);
  const expected = Array.from({ length: PAIRS }, (_, n) => [`r${n}/`, `r${n}/y`]).flat().sort();
  expect(tree(path.join(dir, base))).toEqual(expected);
}, 60_000);

test('a failing upload alone into a new folder leaves no folder behind', async () => {
  const status = await put(await RawClient.connect(server.port), '/files/lonely/deeper/x', 'failing', 'If-Match: "nope"\r\n');
  expect(status).toBe(412);
  expect(tree(dir).filter((p) => p.startsWith('lonely'))).toEqual([]);
});

// The same, where the failure comes after the folder was made: uploads
// whose clients leave mid-body remove the folder they made, while a valid
// upload may just have found it.
test('300 new folders, three uploads each leaving mid-body and one valid: every valid upload succeeds, no stray folder', async () => {
  const base = `gone-${Math.random().toString(36).slice(2)}`;
  const FOLDERS = 300;
  const failures: string[] = [];
  const batch = 25;
  for (let first = 0; first < FOLDERS; first += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, FOLDERS - first) }, async (_, k) => {
        const n = first + k;
        const leaving = await Promise.all([0, 1, 2].map(() => RawClient.connect(server.port)));
        const b = await RawClient.connect(server.port);
        for (const a of leaving) a.send(`PUT /files/${base}/r${n}/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly part`);
        setTimeout(() => leaving.forEach((a) => a.socket.destroy()), 1);
        // Sent at a random moment around the others' cleanup.
        await new Promise((r) => setTimeout(r, Math.random() * 3));
        const valid = await put(b, `/files/${base}/r${n}/y`, `valid ${n}`);
        if (valid !== 201) failures.push(`r${n}: ${valid}`);
      }),
    );
  }
  expect(failures).toEqual([]);
  await waitFor(() => partials(dir).length === 0, 'the failed uploads to clean up');
  const expected = Array.from({ length: FOLDERS }, (_, n) => [`r${n}/`, `r${n}/y`]).flat().sort();
  expect(tree(path.join(dir, base))).toEqual(expected);
}, 60_000);
