// The lock that makes an upload's check-and-commit one step across
// processes: a hidden link next to the target, never listed or served;
// one left by a holder that died is broken, one held by a live process is
// waited for. The lock is taken when several processes share the
// directory, so the server runs with two workers.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstatSync, readFileSync, readlinkSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { removeScratch, scratch, send } from '../uploads/helpers';
import { type Launched, launch, listening } from './helpers';

let dir: string;
let server: Launched;
let port: number;
beforeAll(async () => {
  dir = scratch('ops-lock-');
  server = launch(['--host', '127.0.0.1', '--port', '0', '--directory', dir, '--dotfiles', '--workers', '2']);
  port = await listening(server);
});
afterAll(async () => {
  await server.stop();
  removeScratch(dir);
});

/** The lock link's path for `name` in the served directory (upload-lock.ts: `.upload-lock-<sha256 16 hex>`). */
function lockOf(name: string): string {
  return path.join(dir, `.upload-lock-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`);
}

/** A lock held by process `pid` of our pid namespace, as a holder writes it. */
function hold(name: string, pid: number): string {
  const lock = lockOf(name);
  symlinkSync(`${pid} ${readlinkSync('/proc/self/ns/pid')} 0123456789ab`, lock);
  return lock;
}

function exists(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}

test('a lock (and a breaker link) is never listed or served, even with --dotfiles, and cannot be written or deleted', async () => {
  const lock = hold('listed.txt', process.pid);
  symlinkSync('x', `${lock}.break`);
  writeFileSync(path.join(dir, '.visible'), 'dotfile');
  try {
    const listing = await send(port, 'GET', '/files/');
    expect(listing.status).toBe(200);
    expect(listing.body.toString()).toContain('.visible');
    expect(listing.body.toString()).not.toContain('.upload-lock-');
    for (const target of [lock, `${lock}.break`].map((p) => `/files/${path.basename(p)}`)) {
      expect((await send(port, 'GET', target)).status).toBe(404);
      expect((await send(port, 'PUT', target, 'x')).status).toBe(404);
      expect((await send(port, 'DELETE', target)).status).toBe(404);
    }
    expect(exists(lock)).toBe(true);
  } finally {
    unlinkSync(lock);
    unlinkSync(`${lock}.break`);
  }
});

test('a lock left by a process that is gone is broken: the upload goes through', async () => {
  const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const lock = hold('orphan.txt', Number(dead.stdout));
  const res = await send(port, 'PUT', '/files/orphan.txt', 'after a crash', { 'If-None-Match': '*' });
  expect(res.status).toBe(201);
  expect(readFileSync(path.join(dir, 'orphan.txt'), 'utf8')).toBe('after a crash');
  expect(exists(lock)).toBe(false);
});

test('a lock held by a live process is waited for: the upload commits once it is released', async () => {
  writeFileSync(path.join(dir, 'held.txt'), 'old');
  const lock = hold('held.txt', process.pid); // this test process: alive
  const pending = send(port, 'PUT', '/files/held.txt', 'new');
  let settled = false;
  void pending.then(() => (settled = true));
  await new Promise((r) => setTimeout(r, 500));
  expect(settled).toBe(false);
  expect(readFileSync(path.join(dir, 'held.txt'), 'utf8')).toBe('old');
  unlinkSync(lock);
  expect((await pending).status).toBe(204);
  expect(readFileSync(path.join(dir, 'held.txt'), 'utf8')).toBe('new');
  expect(exists(lock)).toBe(false);
});
