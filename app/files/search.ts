/**
 * Search by name below a folder (`GET <folder>/?q=TERM`): every file and
 * folder whose name contains the term, case-insensitively, anywhere in the
 * tree below. The tree may be huge and the term may match everything, so a
 * search is bounded:
 * - in results: {@link SearchLimits.maxResults} (1,000) at most, then it
 *   stops and says it was truncated;
 * - in time: {@link SearchLimits.timeMs} (2 s) of walking, then the same;
 * - in number: {@link SearchLimits.maxConcurrent} (4) searches at once per
 *   process; one more is refused ({@link SearchBusy}, answered 503);
 * - on the event loop: folders are read with one asynchronous `readdir`
 *   each, and names are matched in slices of a few ms that yield between.
 * What it yields is what a listing would show: hidden names (dotfiles
 * without `--dotfiles`, unfinished uploads) are neither yielded nor
 * entered; a symlink is yielded when it resolves inside the served
 * directory, and never entered (so a link cannot lead the walk out, or
 * round in a loop).
 */

import type { Dirent } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { type ListingPolicy, SLICE_MS, collator, mapBounded, sortYielding, yieldToEventLoop } from './listing-cache.js';
import type { SearchMatch, SearchResult } from './listing-page.js';

/** Bounds of a search. */
export interface SearchLimits {
  /** Most matches returned; default 1,000. */
  readonly maxResults?: number;
  /** Longest walk in ms; default 2,000. */
  readonly timeMs?: number;
  /** Most searches running at once in this process; default 4. */
  readonly maxConcurrent?: number;
}

/** Thrown when {@link SearchLimits.maxConcurrent} searches are already running: try again later. */
export class SearchBusy extends Error {}

let running = 0;

/** A match found by name; its stats are read once the walk ends. */
interface Candidate {
  readonly path: string;
  readonly name: string;
  readonly full: string;
  /** Whether to check it is a file or folder inside the served directory (a symlink). */
  readonly resolve: boolean;
}

/**
 * Searches the tree below `dir` for names containing `term`.
 * @param dir the folder's real path, inside the served directory.
 * @param term the text to look for (compared case-insensitively); not empty.
 * @param policy which names may be shown, and what is inside the served directory.
 * @param limits bounds (see the module comment).
 * @returns the matches ordered by path (folders' paths without a trailing
 *   `/`), and whether the search stopped early.
 * @throws SearchBusy when too many searches are running; the `readdir`
 *   error when `dir` itself cannot be read.
 */
export async function searchNames(dir: string, term: string, policy: ListingPolicy, limits: SearchLimits = {}): Promise<SearchResult> {
  const maxResults = limits.maxResults ?? 1000;
  const maxConcurrent = limits.maxConcurrent ?? 4;
  if (running >= maxConcurrent) throw new SearchBusy();
  running++;
  try {
    const deadline = performance.now() + (limits.timeMs ?? 2000);
    const needle = term.toLowerCase();
    const found: Candidate[] = [];
    let truncated = false;
    const queue: Array<[string, string]> = [[dir, '']];
    let slice = performance.now() + SLICE_MS;
    walk: for (let q = 0; q < queue.length; q++) {
      const [folder, rel] = queue[q]!;
      queue[q] = ['', '']; // let the walked folder's strings go
      let entries: Dirent[];
      try {
        entries = await readdir(folder, { withFileTypes: true });
      } catch (e) {
        if (q === 0) throw e;
        continue; // vanished or unreadable below: skip it
      }
      for (let i = 0; i < entries.length; i++) {
        if ((i & 63) === 0 && performance.now() > slice) {
          if (performance.now() > deadline) {
            truncated = true;
            break walk;
          }
          await yieldToEventLoop();
          slice = performance.now() + SLICE_MS;
        }
        const d = entries[i]!;
        if (policy.isHidden(d.name)) continue;
        const full = path.join(folder, d.name);
        const p = rel === '' ? d.name : `${rel}/${d.name}`;
        let isDirectory = d.isDirectory();
        let resolve = d.isSymbolicLink();
        if (!isDirectory && !resolve && !d.isFile()) {
          if (d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice()) continue;
          // The file system did not say the type: ask.
          try {
            const st = await lstat(full);
            isDirectory = st.isDirectory();
            resolve = st.isSymbolicLink();
            if (!isDirectory && !resolve && !st.isFile()) continue;
          } catch {
            continue;
          }
        }
        if (isDirectory && !resolve) queue.push([full, p]);
        if (!d.name.toLowerCase().includes(needle)) continue;
        if (found.length === maxResults) {
          truncated = true;
          break walk;
        }
        found.push({ path: p, name: d.name, full, resolve });
      }
      if (performance.now() > deadline && q + 1 < queue.length) {
        truncated = true;
        break;
      }
    }
    const stated = await mapBounded(found, 32, async (c): Promise<SearchMatch | null> => {
      try {
        if (c.resolve && !policy.isInside(await realpath(c.full))) return null;
        const st = await stat(c.full);
        if (!st.isFile() && !st.isDirectory()) return null;
        return { path: c.path, name: c.name, isDirectory: st.isDirectory(), size: st.isDirectory() ? 0 : st.size, mtimeMs: st.mtimeMs };
      } catch {
        return null;
      }
    });
    const matches = stated.filter((m): m is SearchMatch => m !== null);
    const byPath = (a: SearchMatch, b: SearchMatch) => collator.compare(a.path, b.path) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    return { matches: await sortYielding(matches, byPath), truncated };
  } finally {
    running--;
  }
}
