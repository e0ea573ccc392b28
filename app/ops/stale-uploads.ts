/**
 * At startup, removes what uploads cut short by a crash left behind in the
 * served directory: temporary files (`.upload-<16 hex>.partial`) and lock
 * links (`.upload-lock-<16 hex>[.break]`), the names `isPartialUpload`
 * recognises and nothing else.
 *
 * Only ones untouched for longer than the body timeout are removed: an
 * upload that is still running (in another server on the same folder, or
 * a worker already serving) writes its file at least that often, or is
 * cut off by that timeout, and a live lock is held for milliseconds.
 *
 * The walk runs in the background after the server listens, with
 * asynchronous calls, one folder at a time. It does not follow symbolic
 * links (a link may lead outside the directory, or into a loop), and it
 * stops after {@link SweepOptions.maxEntries} entries or below
 * {@link SweepOptions.maxDepth} folders, saying so, so that a huge tree
 * costs a bounded amount of work.
 */

import fs from 'node:fs';
import path from 'node:path';
import { isPartialUpload } from '../files/uploads.js';

/** Bounds of {@link sweepStaleUploads}. */
export interface SweepOptions {
  /** Age in milliseconds (by modification time) beyond which a leftover is removed: the body timeout. */
  readonly olderThanMs: number;
  /** Entries looked at before the walk gives up (default 200,000). */
  readonly maxEntries?: number;
  /** Folder depth below the directory the walk goes to (default 32). */
  readonly maxDepth?: number;
  /** The current time in milliseconds since the epoch (default `Date.now()`). */
  readonly now?: number;
}

/** What a sweep did. */
export interface SweepResult {
  /** Paths removed, absolute. */
  readonly removed: string[];
  /** Entries looked at. */
  readonly entries: number;
  /** True when a bound stopped the walk before it saw the whole tree. */
  readonly truncated: boolean;
}

/**
 * Walks `directory` and removes stale upload leftovers (see the module
 * comment). Never throws: a folder it cannot read is skipped, a file it
 * cannot remove is left.
 * @returns what it removed and how much it looked at.
 */
export async function sweepStaleUploads(directory: string, options: SweepOptions): Promise<SweepResult> {
  const maxEntries = options.maxEntries ?? 200_000;
  const maxDepth = options.maxDepth ?? 32;
  const cutoff = (options.now ?? Date.now()) - options.olderThanMs;
  const removed: string[] = [];
  let entries = 0;
  let truncated = false;
  const folders: Array<[string, number]> = [[directory, 0]];
  while (folders.length > 0) {
    const [folder, depth] = folders.pop()!;
    let dir: fs.Dir;
    try {
      dir = await fs.promises.opendir(folder);
    } catch {
      continue; // unreadable, or gone meanwhile
    }
    try {
      for await (const e of dir) {
        if (++entries > maxEntries) {
          truncated = true;
          break;
        }
        const p = path.join(folder, e.name);
        if (e.isDirectory()) {
          if (depth + 1 <= maxDepth) folders.push([p, depth + 1]);
          else truncated = true;
        } else if ((e.isFile() || e.isSymbolicLink()) && isPartialUpload(e.name)) {
          try {
            const st = await fs.promises.lstat(p);
            if (st.mtimeMs < cutoff) {
              await fs.promises.unlink(p);
              removed.push(p);
            }
          } catch {
            // gone meanwhile, or not ours to remove
          }
        }
      }
    } catch {
      // a folder that fails while being read: skip the rest of it
    }
    if (truncated && entries > maxEntries) break;
  }
  return { removed, entries: Math.min(entries, maxEntries), truncated };
}

/**
 * Runs {@link sweepStaleUploads} in the background and reports on stderr
 * what it removed, and when it stopped early.
 */
export function sweepInBackground(directory: string, olderThanMs: number): void {
  void sweepStaleUploads(directory, { olderThanMs }).then((r) => {
    if (r.removed.length > 0) {
      console.error(`removed ${r.removed.length} stale upload file${r.removed.length === 1 ? '' : 's'} left by an earlier run`);
    }
    if (r.truncated) console.error(`note: the stale-upload sweep left part of ${directory} unvisited (too many entries or folders too deep)`);
  });
}
