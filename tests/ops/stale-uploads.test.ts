// At startup the server removes the temporary files and lock links that
// uploads cut short by a crash left behind, only its own names and only
// ones older than the body timeout, without delaying listening.
import { lstatSync, lutimesSync, mkdirSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { removeScratch, scratch, send } from '../uploads/helpers';
import { type Launched, launch, listening, until } from './helpers';

let dir: string;
let outside: string;
let server: Launched | undefined;
beforeEach(() => {
  dir = scratch('ops-stale-');
  outside = scratch('ops-stale-outside-');
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
  removeScratch(dir);
  removeScratch(outside);
});

const HOUR_AGO = Date.now() / 1000 - 3600;

/** Creates `rel` under `root` with `text`, optionally an hour old. */
function put(root: string, rel: string, old: boolean, text = 'partial'): string {
  const p = path.join(root, rel);
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, text);
  if (old) utimesSync(p, HOUR_AGO, HOUR_AGO);
  return p;
}

test('old temporary files and locks are removed, anywhere in the tree; fresh ones and other names are kept', async () => {
  const gone = [
    put(dir, '.upload-0123456789abcdef.partial', true),
    put(dir, 'a/b/c/.upload-fedcba9876543210.partial', true),
  ];
  const lock = path.join(dir, 'a', '.upload-lock-0011223344556677');
  symlinkSync('12345 pid:[1] 0a0b0c', lock);
  const lockTime = new Date(Date.now() - 3600_000);
  lutimesSync(lock, lockTime, lockTime);
  gone.push(lock);
  const kept = [
    put(dir, '.upload-aaaaaaaaaaaaaaaa.partial', false), // fresh: could be an upload in progress
    put(dir, 'a/.upload-notours.partial', true), // not our name pattern
    put(dir, 'a/b/notes.partial', true),
    put(dir, 'a/b/.upload-0123456789abcdef.partial.txt', true),
    put(dir, 'a/report.txt', true),
  ];
  // A link to a folder outside is not followed: what is there is not ours.
  const elsewhere = put(outside, '.upload-0123456789abcdef.partial', true);
  symlinkSync(outside, path.join(dir, 'link-out'));

  server = launch(['--host', '127.0.0.1', '--port', '0', '--directory', dir, '--body-timeout', '2000']);
  await listening(server);
  await until(() => gone.every((p) => !exists(p)), 'the stale files to be removed');
  await until(() => server!.stderr().includes('removed 3 stale upload files left by an earlier run'), 'the report');
  for (const p of kept) expect(exists(p)).toBe(true);
  expect(exists(elsewhere)).toBe(true);
});

test('a partial file younger than the body timeout is kept, and uploads work alongside the sweep', async () => {
  const young = put(dir, '.upload-1111111111111111.partial', false);
  utimesSync(young, Date.now() / 1000 - 5, Date.now() / 1000 - 5); // 5 s old, the timeout is 60 s
  const old = put(dir, '.upload-2222222222222222.partial', false);
  utimesSync(old, Date.now() / 1000 - 61, Date.now() / 1000 - 61);
  server = launch(['--host', '127.0.0.1', '--port', '0', '--directory', dir, '--body-timeout', '60000']);
  const port = await listening(server);
  expect((await send(port, 'PUT', '/files/new.txt', 'fresh')).status).toBe(201);
  await until(() => !exists(old), 'the old partial to be removed');
  expect(exists(young)).toBe(true);
  expect(exists(path.join(dir, 'new.txt'))).toBe(true);
});

test('with workers the primary sweeps once', async () => {
  const old = put(dir, 'x/.upload-3333333333333333.partial', true);
  server = launch(['--host', '127.0.0.1', '--port', '0', '--directory', dir, '--body-timeout', '2000', '--workers', '2']);
  await listening(server);
  await until(() => !exists(old), 'the old partial to be removed');
  await until(() => server!.stderr().includes('removed 1 stale upload file left'), 'the report');
  expect(server.stderr().match(/stale upload/g)).toHaveLength(1);
});

/** True when something (a link too) has the name `p`. */
function exists(p: string): boolean {
  return lstatSync(p, { throwIfNoEntry: false }) !== undefined;
}
