// Disk errors are answered with their status and leave nothing half-written:
// a full disk (a real 1 MiB tmpfs) is 507, missing permission is 403 (the
// server run as root without the capabilities that bypass permission bits,
// for EACCES; an immutable folder for EPERM, which binds root too).
import { execFileSync } from 'node:child_process';
import { chownSync, mkdirSync, readFileSync, statfsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunningServer } from '../helpers/server';
import { canMount, chunked, launch, partials, removeScratch, scratch, send, tree } from './helpers';

const OLD = 'the previous version\n';
const MiB = 1024 * 1024;

/** Bytes free for unprivileged use on the file system holding `dir`. */
function free(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

describe('a full disk', () => {
  // Mounting needs root with CAP_SYS_ADMIN. Where that is refused, the same
  // failure comes from a real per-process file-size limit (RLIMIT_FSIZE:
  // EFBIG), which the server answers like a full disk.
  const mounted = canMount();
  let server: RunningServer;
  let base: string;
  let dir: string;
  beforeAll(async () => {
    base = scratch('upload-disk-');
    dir = path.join(base, 'small');
    mkdirSync(dir);
    if (mounted) {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
      server = await launch(['--directory', dir]);
    } else {
      server = await launch(['--directory', dir], { wrapper: ['prlimit', `--fsize=${MiB}`] });
    }
    console.log(`full-disk tests use ${mounted ? 'a 1 MiB tmpfs (ENOSPC)' : 'RLIMIT_FSIZE of 1 MiB (EFBIG): mounting is not permitted here'}`);
  });
  afterAll(async () => {
    await server.stop();
    if (mounted) execFileSync('umount', ['-l', dir]);
    removeScratch(base);
  });

  test('an upload larger than the free space is 507; the old file, the free space and the folders are as before', async () => {
    writeFileSync(path.join(dir, 'keep.txt'), OLD);
    const before = tree(dir);
    const freeBefore = free(dir);
    const res = await send(server.port, 'PUT', '/files/keep.txt', Buffer.alloc(2 * MiB, 0x61));
    expect(res.statusLine).toBe('HTTP/1.1 507 Insufficient Storage');
    expect(readFileSync(path.join(dir, 'keep.txt'), 'utf8')).toBe(OLD);
    expect(tree(dir)).toEqual(before);
    if (mounted) expect(free(dir)).toBe(freeBefore); // our own file system: nothing else writes there

    const body = chunked(Buffer.alloc(2 * MiB, 0x62), 64 * 1024);
    const nested = await send(server.port, 'POST', '/files/new/folder/big.bin', body, { 'Transfer-Encoding': 'chunked' });
    expect(nested.status).toBe(507);
    expect(tree(dir)).toEqual(before); // the folders made for it are removed too
    expect(partials(dir)).toEqual([]);
  });

  test('after a failed upload the space is usable again', async () => {
    const res = await send(server.port, 'PUT', '/files/keep.txt', Buffer.alloc(512 * 1024, 0x63));
    expect(res.status).toBe(204);
    expect(readFileSync(path.join(dir, 'keep.txt')).length).toBe(512 * 1024);
  });
});

describe('permissions', () => {
  let base: string;
  beforeAll(() => {
    base = scratch('upload-perm-');
  });
  afterAll(() => removeScratch(base));

  // Root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH (dropped from the
  // bounding and inheritable sets, so exec cannot regain them) is bound by
  // permission bits like any user, yet can still reach the server's code
  // wherever the repository lives (a 0700 home folder shuts out `nobody`).
  const noBypass = ['setpriv', '--inh-caps=-dac_override,-dac_read_search', '--bounding-set=-dac_override,-dac_read_search'];

  test('a server bound by permission bits answers 403 where it may not write (EACCES), and writes nothing', async () => {
    const dir = path.join(base, 'bits');
    mkdirSync(path.join(dir, 'locked'), { recursive: true });
    writeFileSync(path.join(dir, 'locked', 'keep.txt'), OLD);
    // Someone else's 0755 folder and 0644 file: the server (root, as "other") may only read them.
    chownSync(path.join(dir, 'locked', 'keep.txt'), 65534, 65534);
    chownSync(path.join(dir, 'locked'), 65534, 65534);
    const server = await launch(['--directory', dir], { wrapper: noBypass });
    try {
      const capEff = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(readFileSync(`/proc/${server.process.pid}/status`, 'utf8'))![1]}`);
      const DAC_OVERRIDE = 1n << 1n;
      const DAC_READ_SEARCH = 1n << 2n;
      expect(capEff & (DAC_OVERRIDE | DAC_READ_SEARCH)).toBe(0n);
      const before = tree(dir);
      for (const [method, target] of [
        ['PUT', '/files/locked/keep.txt'],
        ['PUT', '/files/locked/new.txt'],
        ['POST', '/files/locked/deeper/new.txt'],
        ['DELETE', '/files/locked/keep.txt'],
      ] as const) {
        const res = await send(server.port, method, target, method === 'DELETE' ? '' : 'intruder');
        expect([method, target, res.status]).toEqual([method, target, 403]);
      }
      expect(tree(dir)).toEqual(before);
      expect(readFileSync(path.join(dir, 'locked', 'keep.txt'), 'utf8')).toBe(OLD);
      // Where it may write, it does.
      expect((await send(server.port, 'PUT', '/files/mine/allowed.txt', 'ok')).status).toBe(201);
    } finally {
      await server.stop();
    }
  });

  test('an immutable folder (chattr +i) is 403 even for root (EPERM), and nothing changes', async () => {
    const dir = path.join(base, 'frozen-root');
    mkdirSync(path.join(dir, 'frozen'), { recursive: true });
    writeFileSync(path.join(dir, 'frozen', 'keep.txt'), OLD);
    execFileSync('chattr', ['+i', path.join(dir, 'frozen')]);
    const server = await launch(['--directory', dir]);
    try {
      const before = tree(dir);
      for (const [method, target] of [
        ['PUT', '/files/frozen/keep.txt'],
        ['PUT', '/files/frozen/new.txt'],
        ['PUT', '/files/frozen/sub/new.txt'],
        ['DELETE', '/files/frozen/keep.txt'],
      ] as const) {
        const res = await send(server.port, method, target, method === 'DELETE' ? '' : 'intruder');
        expect([method, target, res.status]).toEqual([method, target, 403]);
      }
      expect(tree(dir)).toEqual(before);
      expect(readFileSync(path.join(dir, 'frozen', 'keep.txt'), 'utf8')).toBe(OLD);
    } finally {
      execFileSync('chattr', ['-i', path.join(dir, 'frozen')]);
      await server.stop();
    }
  });
});
