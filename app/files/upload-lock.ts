/**
 * One change at a time per file name, across every process that serves
 * the directory (the workers of `--workers N`, or two servers started on
 * one folder), with no daemon and nothing but the file system.
 *
 * Why a lock at all: `If-Match` (replace-only) needs "check the current
 * version, then rename over it" to be one step, and no rename compares
 * before it replaces. Create-only alone could be had without one
 * (`link(temp, target)` fails with EEXIST atomically), but a create-only
 * upload must also not slip between another request's check and rename,
 * and a second mechanism for one case would be a second thing to get
 * right. So every upload and delete holds the name's lock while it checks
 * its preconditions and commits; the content is received and synced
 * before, without it, so the lock is held for microseconds to a few
 * milliseconds.
 *
 * The lock is a symbolic link `.upload-lock-<16 hex>` in the target's
 * folder (the hex: a hash of the target's name, so any name fits in 255
 * bytes; two names sharing a hash only share a lock). `symlink` creates
 * it or fails with EEXIST in one atomic system call, and its text records
 * the holder (`pid`, pid namespace, a random nonce), read back with one
 * `readlink` (the trick of Emacs' `.#file` locks). It lives next to the
 * target because that folder is the one place every process can already
 * write (the temporary file is made there) and it needs no shared
 * registry. Its name matches `isPartialUpload`, so no listing shows it and
 * no request can read, write or delete it.
 *
 * A waiter polls with a growing pause (1 ms up to 50 ms). A holder that
 * crashed leaves its lock behind; a lock may be broken when its holder's
 * pid is gone (in our pid namespace) or when it is older than
 * {@link STALE_LOCK_MS}, which no live holder gets near. Two waiters
 * breaking one stale lock at once could otherwise remove the lock a third
 * has just taken, so breaking is itself serialized by a second link
 * (`<lock>.break`), held only across synchronous calls (re-read the lock,
 * unlink it if it is still the stale one): a crash while holding that one
 * needs a kill within microseconds, and it is then broken by age like any
 * other. Processes on several machines (a network file system) are not
 * covered: the pid test means one machine.
 */

import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Age in milliseconds beyond which any lock is taken to be abandoned. */
export const STALE_LOCK_MS = 30_000;
/** Longest pause in milliseconds between two attempts to take a held lock. */
const MAX_PAUSE_MS = 50;

/** Our pid namespace (`pid:[4026531836]`), so a pid is only judged in the namespace it belongs to. */
const PID_NAMESPACE = (() => {
  try {
    return fs.readlinkSync('/proc/self/ns/pid');
  } catch {
    return '';
  }
})();

/** The name of the lock of the file named `name`: `.upload-lock-<16 hex>`. */
export function lockName(name: string): string {
  return `.upload-lock-${createHash('sha256').update(name).digest('hex').slice(0, 16)}`;
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** What a lock link says about its holder: `<pid> <namespace> <nonce>`. */
function holderText(): string {
  return `${process.pid} ${PID_NAMESPACE} ${randomBytes(6).toString('hex')}`;
}

/** True when the process `pid` of namespace `ns` surely no longer runs. */
function holderGone(pid: number, ns: string): boolean {
  if (ns !== PID_NAMESPACE || !Number.isInteger(pid) || pid <= 0) return false;
  if (pid === process.pid) return false; // ours: this process still runs
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return errno(e) === 'ESRCH'; // EPERM: it runs, under another user
  }
}

/** The text of the link at `p` when it is abandoned (holder gone or too old), else `null`. */
function staleText(p: string, now: number): string | null {
  let text: string;
  let st: fs.Stats | undefined;
  try {
    text = fs.readlinkSync(p);
    st = fs.lstatSync(p, { throwIfNoEntry: false });
  } catch {
    return null; // gone already, or not a link: let the next attempt decide
  }
  if (st === undefined) return null;
  const [pid, ns] = text.split(' ');
  return holderGone(Number(pid), ns ?? '') || now - st.mtimeMs > STALE_LOCK_MS ? text : null;
}

/**
 * Removes the lock `lock` if it is abandoned, with the break link held so
 * that no other breaker can remove a lock taken meanwhile (see the module
 * comment). Synchronous between taking and dropping the break link.
 */
function breakIfStale(lock: string): void {
  const now = Date.now();
  if (staleText(lock, now) === null) return;
  const breaker = `${lock}.break`;
  try {
    fs.symlinkSync(holderText(), breaker);
  } catch (e) {
    if (errno(e) !== 'EEXIST') return;
    // Another breaker holds it, for microseconds; unless it died there.
    const text = staleText(breaker, now);
    if (text !== null && fs.readlinkSync(breaker) === text) fs.rmSync(breaker, { force: true });
    return;
  }
  try {
    const text = staleText(lock, now); // again, now that no one else can break it
    if (text !== null && fs.readlinkSync(lock) === text) fs.unlinkSync(lock);
  } catch {
    // gone meanwhile (its holder released it): nothing to break
  } finally {
    fs.rmSync(breaker, { force: true });
  }
}

/**
 * Runs `fn` while holding the cross-process lock of `file`, waiting for
 * it as long as another process holds it (up to {@link STALE_LOCK_MS}
 * when that holder never lets go), and releases it however `fn` ends.
 * @param file absolute path of the target; its folder must exist.
 * @returns what `fn` returns.
 * @throws what `fn` throws; file-system errors creating the lock (EACCES,
 *   ENOSPC, ENOENT when the folder vanished, ...).
 */
export async function withNameLock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const lock = path.join(path.dirname(file), lockName(path.basename(file)));
  const text = holderText();
  for (let pause = 1; ; pause = Math.min(MAX_PAUSE_MS, pause * 2)) {
    try {
      await fs.promises.symlink(text, lock);
      break;
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw e;
    }
    breakIfStale(lock);
    await new Promise((resolve) => setTimeout(resolve, pause));
  }
  try {
    return await fn();
  } finally {
    // Ours unless it was broken as stale meanwhile (held 30 s): then leave the new holder's.
    try {
      if (fs.readlinkSync(lock) === text) await fs.promises.unlink(lock);
    } catch {
      // already gone
    }
  }
}
