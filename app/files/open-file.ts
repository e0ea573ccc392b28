/**
 * Opening files inside a served directory, and reading them from the
 * descriptor that was opened. A response is built from the descriptor's
 * own `fstat` and its bytes come from that same descriptor, so its head and
 * its content always describe one version of the file, whatever renames,
 * deletes or symlink swaps happen meanwhile (the way nginx's static module
 * works).
 */

import { close, fstat, open, read, readlinkSync, type Stats } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { Readable } from 'node:stream';

/**
 * Whether the real path `p` is the directory `root` (a real path) or lies
 * below it: compared by whole path components, so `/srv/a` does not contain `/srv/ab`.
 */
export function isInside(root: string, p: string): boolean {
  return p === root || (p.startsWith(root) && (root.endsWith('/') || p.charCodeAt(root.length) === 47 /* / */));
}

/** Bytes read from disk per read call when streaming a file: large, so throughput nears loopback speed. */
export const READ_CHUNK = 64 * 1024;

/** A file or folder opened inside the served directory. */
export interface OpenedFile {
  /** The open descriptor; the caller owns it and must close it. */
  readonly fd: number;
  /** Its real path (symlinks resolved), inside the served directory. */
  readonly real: string;
  /** `fstat` of the descriptor. */
  readonly stats: Stats;
}

const openAsync = (p: string) =>
  new Promise<number>((resolve, reject) => open(p, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
const fstatAsync = (fd: number) =>
  new Promise<Stats>((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st))));

/** Closes a descriptor, ignoring errors (it is ours and open). */
export function closeFd(fd: number): void {
  close(fd, () => undefined);
}

/** Whether `/proc/self/fd` names what a descriptor points to (Linux, under Node and Bun). */
let procFd: boolean | undefined;

/**
 * The path the kernel resolved for `fd` (where it was when unlinked, for a
 * file removed since); `null` when unreadable; `undefined` when this system
 * cannot tell (no `/proc`).
 */
function openedPath(fd: number): string | null | undefined {
  if (procFd === false) return undefined;
  try {
    const p = readlinkSync(`/proc/self/fd/${fd}`);
    procFd = true;
    // Replaced or removed since we opened it: it was still at this path when opened, and it is that version we serve.
    return p.endsWith(' (deleted)') ? p.slice(0, -' (deleted)'.length) : p;
  } catch {
    procFd ??= false;
    return procFd ? null : undefined;
  }
}

/**
 * Opens what `full` names if, once opened, it lies inside the served
 * directory: resolves symlinks, checks containment, opens, then checks
 * containment again on what was actually opened (`/proc/self/fd`, or a
 * second resolution compared by device and inode where there is no
 * `/proc`), so a symlink swapped in between cannot lead outside.
 * @param full absolute path (served directory joined with the decoded segments).
 * @param isInside whether a real path lies inside the served directory.
 * @returns the opened file, or `null` when there is nothing there, it is
 *   outside, or it keeps changing under us (tried three times).
 * @throws file-system errors other than "not found" kinds (EACCES, EMFILE…).
 */
export async function openInside(full: string, isInside: (real: string) => boolean): Promise<OpenedFile | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    let real: string;
    try {
      real = await realpath(full);
    } catch (e) {
      if (isMissing(e)) return null;
      throw e;
    }
    if (!isInside(real)) return null;
    let fd: number;
    try {
      fd = await openAsync(real);
    } catch (e) {
      if (isMissing(e)) continue; // replaced or removed meanwhile: resolve again
      throw e;
    }
    try {
      const opened = openedPath(fd);
      let ok: boolean;
      const stats = await fstatAsync(fd);
      if (opened !== undefined) ok = opened !== null && opened === real;
      else {
        const again = await realpath(full).catch(() => null);
        const st = again === null ? null : await stat(again).catch(() => null);
        ok = again !== null && isInside(again) && st !== null && st.ino === stats.ino && st.dev === stats.dev;
      }
      if (ok) return { fd, real, stats };
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    closeFd(fd);
  }
  return null;
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP' || code === 'ENAMETOOLONG';
}

/**
 * Reads `length` bytes at `position` of `fd` into one Buffer.
 * @throws Error when the file yields fewer bytes (it shrank); read errors.
 */
export function readWhole(fd: number, length: number, position = 0): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(length);
  return new Promise((resolve, reject) => {
    const step = (off: number) => {
      if (off === length) return resolve(buf);
      read(fd, buf, off, length - off, position + off, (err, n) => {
        if (err) return reject(err);
        if (n === 0) return reject(new Error('the file shrank while being read'));
        step(off + n);
      });
    };
    step(0);
  });
}

/**
 * A stream of `length` bytes of `fd` from `start`, read {@link READ_CHUNK}
 * at a time and only as fast as it is consumed (back-pressure). It fails,
 * rather than ending early, if the file yields fewer bytes (it shrank).
 * Chunks handed back through {@link recycle} are read into again, so a
 * download holds a few buffers instead of leaving one per chunk for the
 * garbage collector (which Bun, in particular, reclaims late).
 */
export class FileStream extends Readable {
  private position: number;
  private left: number;
  private readonly free: Buffer[] = [];
  private readonly own = new WeakSet<ArrayBufferLike>();

  /**
   * @param onClose called once when the stream ends, fails or is destroyed
   *   (the owner closes the descriptor there).
   */
  constructor(
    private readonly fd: number,
    start: number,
    length: number,
    private readonly onClose: () => void,
  ) {
    super({ highWaterMark: READ_CHUNK });
    this.position = start;
    this.left = length;
  }

  override _read(): void {
    if (this.left === 0) {
      this.push(null);
      return;
    }
    const n = Math.min(READ_CHUNK, this.left);
    let buf = this.free.pop();
    if (buf === undefined) {
      buf = Buffer.allocUnsafeSlow(READ_CHUNK);
      this.own.add(buf.buffer);
    }
    const into = buf;
    read(this.fd, into, 0, n, this.position, (err, got) => {
      if (this.destroyed) return;
      if (err) return void this.destroy(err);
      if (got === 0) return void this.destroy(new Error('the file shrank while being sent'));
      this.position += got;
      this.left -= got;
      this.push(got === READ_CHUNK ? into : into.subarray(0, got));
    });
  }

  /** Takes back a chunk this stream produced, once nobody reads it any more. */
  recycle(chunk: Buffer): void {
    if (this.free.length < 4 && this.own.has(chunk.buffer)) this.free.push(Buffer.from(chunk.buffer, 0, READ_CHUNK));
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.onClose();
    cb(err);
  }
}

/** A {@link FileStream} (see there). */
export function fileStream(fd: number, start: number, length: number, onClose: () => void): FileStream {
  return new FileStream(fd, start, length, onClose);
}

/**
 * A descriptor shared by the streams of one response (several ranges),
 * closed once when the last user lets go or the response is dropped.
 */
export class SharedFd {
  private users = 1;
  private closed = false;

  constructor(readonly fd: number) {}

  /** One more user; each must call {@link release}. */
  retain(): void {
    this.users++;
  }

  /** One user less; the descriptor is closed after the last. */
  release(): void {
    if (this.closed || --this.users > 0) return;
    this.closed = true;
    closeFd(this.fd);
  }
}
