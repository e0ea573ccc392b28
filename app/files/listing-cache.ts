/**
 * The listing cache: reads folders (names, then stats) without holding the
 * event loop, orders their rows, and keeps what it made, so that a listing
 * asked for again is answered from memory. It knows nothing of HTML or
 * JSON: a caller asks for a {@link ListingView} (which rows, in which
 * order, rendered by which function) and gets the rendered bytes, their
 * digest and their coded variants.
 *
 * Large folders (anyone who can PUT can make one of 30,000 files) must not
 * stall other clients, so:
 * - Names are read with one `readdir` (Node builds 30,000 entries in a few
 *   ms), then keyed and sorted in slices of a few ms that yield to the event
 *   loop in between. Keys (printable-ASCII names) sort as `Intl.Collator`
 *   does at a fifth of its cost; other names are compared by the collator.
 * - A page in name order stats only its own rows, at most
 *   {@link ListingCacheOptions.statConcurrency} at a time. A view in size
 *   or time order, or of the whole folder (JSON), needs every row's stats:
 *   the folder's rows are stat()ed once (same bound) and each order is
 *   sorted once (yielding, as above) and kept, so other pages and orders
 *   are cut from memory.
 * - Coded variants (gzip, br, deflate) are made on the thread pool, never on
 *   the event loop, once per view and coding.
 *
 * Freshness guarantee. Each request makes one synchronous stat() of the
 * folder (no thread-pool round trip), and:
 * - the names and types shown are those the folder had at its current
 *   (dev, ino, mtime, ctime): adding, removing or renaming an entry changes
 *   the folder's mtime, so the next request reads the folder again. As file
 *   systems stamp times with a coarse clock, a change in the same tick as a
 *   read could leave the times equal: a read made less than 1 s after the
 *   folder's last change is trusted only for 1 s, then made again.
 * - sizes, times and inode numbers shown were read at most
 *   {@link ListingCacheOptions.statsMaxAgeMs} (1 s) before the request: a
 *   file rewritten in place does not change its folder's times, so a
 *   view's rows are stat()ed again once their stats are older than that
 *   (and the view re-rendered only if a row changed).
 * - a folder read again that shows the same names keeps its views and tags
 *   (a hidden name, such as an upload's temporary file, changed).
 * Memory: names and stats are counted at an estimate of their size, views
 * and coded views at theirs; past {@link ListingCacheOptions.maxBytes}, the
 * least recently listed folders go first. A folder whose names alone exceed
 * the budget is read again for every request (concurrent requests share a
 * read). A symlink is listed when it leads to a file or folder inside the
 * served directory, as resolved when the folder was read; a target that
 * turns from file to folder (or goes) shows when the stats are next read.
 */

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { encode } from '../http/codecs.js';

/** One row of a listing. */
export interface ListingEntry {
  /** The entry's name in its directory, as on disk (not encoded). */
  readonly name: string;
  readonly isDirectory: boolean;
  /** Size in bytes (0 for directories). */
  readonly size: number;
  /** Modification time in ms since the epoch. */
  readonly mtimeMs: number;
  /** Inode number (part of a file's entity-tag, `conditional.ts` fileValidators). */
  readonly ino: number;
}

/** What the listing may show. */
export interface ListingPolicy {
  /** Whether a name must not be shown (dotfiles without `--dotfiles`, unfinished uploads). */
  readonly isHidden: (name: string) => boolean;
  /** Whether a real path (symlinks resolved) lies inside the served directory. */
  readonly isInside: (realPath: string) => boolean;
}

/** Where a page sits in its folder's listing. */
export interface ListingPaging {
  /** 1-based page number. */
  readonly page: number;
  readonly pageCount: number;
  /** 0-based index of the page's first entry in the whole listing. */
  readonly first: number;
  /** Entries in the whole listing. */
  readonly total: number;
  /** Folders in the whole listing. */
  readonly folders: number;
}

/** The column rows are ordered by. */
export type SortField = 'name' | 'size' | 'mtime';

/**
 * How rows are ordered: folders always first, then files; within each
 * group by `sort` (ties by name), ascending unless `descending`.
 */
export interface ListingOrder {
  readonly sort: SortField;
  readonly descending: boolean;
}

/** Name ascending, folders first: the listing's default order. */
export const DEFAULT_ORDER: ListingOrder = Object.freeze({ sort: 'name', descending: false });

/** What a caller asks a {@link ListingCache} for. */
export interface ListingView {
  /** Everything the rendered bytes depend on besides the rows, order and page (format, writable, …). */
  readonly key: string;
  readonly order: ListingOrder;
  /** 1-based page of {@link ListingCacheOptions.pageSize} rows; 0 for every row of the folder. */
  readonly page: number;
  /**
   * Renders the rows (already ordered) of the view; called again only when a
   * row changed. A render of many rows should yield to the event loop
   * (return a promise) rather than hold it.
   */
  readonly render: (rows: readonly ListingEntry[], paging: ListingPaging) => string | Buffer | Promise<string | Buffer>;
}

/** A rendered view, as the cache keeps it. */
export interface CachedView {
  /** The rendered bytes (UTF-8). */
  readonly body: Buffer;
  /** A digest of {@link body} (base64url SHA-1): the opaque part of an entity-tag. */
  readonly tag: string;
}

/** Thrown when a folder kept changing under a read, even when read again: try later. */
export class FolderChanged extends Error {}

// ---------------------------------------------------------------------------
// Reading a folder without holding the event loop

/** Longest stretch of reading or sorting names done before yielding to the event loop, in ms. */
export const SLICE_MS = 4;

/** Lets other callbacks run (a `setImmediate` turn). */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `f` over `items`, at most `limit` calls pending at once.
 * @returns the results in the order of `items`.
 */
export async function mapBounded<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await f(items[i]!);
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(limit, items.length); w++) workers.push(worker());
  await Promise.all(workers);
  return out;
}

/**
 * A stable merge sort that yields to the event loop every {@link SLICE_MS}:
 * sorting 30,000 names takes 100-250 ms with `Intl.Collator` (20-40 ms by
 * key), too long to hold the loop in one go.
 * @returns a sorted array (`items` itself is reordered too, or reused).
 */
export async function sortYielding<T>(items: T[], cmp: (a: T, b: T) => number): Promise<T[]> {
  const n = items.length;
  const RUN = 32;
  let deadline = performance.now() + SLICE_MS;
  for (let lo = 0; lo < n; lo += RUN) {
    const sorted = items.slice(lo, lo + RUN).sort(cmp);
    for (let k = 0; k < sorted.length; k++) items[lo + k] = sorted[k]!;
    if (performance.now() > deadline) {
      await yieldToEventLoop();
      deadline = performance.now() + SLICE_MS;
    }
  }
  let src = items;
  let dst = new Array<T>(n);
  let compares = 0;
  for (let width = RUN; width < n; width *= 2) {
    for (let lo = 0; lo < n; lo += 2 * width) {
      const mid = Math.min(lo + width, n);
      const hi = Math.min(lo + 2 * width, n);
      let i = lo;
      let j = mid;
      let k = lo;
      while (i < mid && j < hi) {
        dst[k++] = cmp(src[j]!, src[i]!) < 0 ? src[j++]! : src[i++]!;
        if (++compares === 256) compares = 0;
        else continue;
        if (performance.now() > deadline) {
          await yieldToEventLoop();
          deadline = performance.now() + SLICE_MS;
        }
      }
      while (i < mid) dst[k++] = src[i++]!;
      while (j < hi) dst[k++] = src[j++]!;
    }
    [src, dst] = [dst, src];
  }
  return src;
}

/** A name in a folder and whether it is a folder (symlinks resolved). */
interface NameEntry {
  readonly name: string;
  readonly isDirectory: boolean;
  /** {@link sortKey} of the name. */
  readonly key: string | null;
}

export const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
/** By name (numbers compared as numbers, case and accents ignored), then by code point. */
const byName = (a: NameEntry, b: NameEntry): number => collator.compare(a.name, b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
/** {@link byName}'s order, for names that all have a sort key: 5-10 times faster. */
const byKey = (a: NameEntry, b: NameEntry): number =>
  a.key! < b.key! ? -1 : a.key! > b.key! ? 1 : a.name < b.name ? -1 : a.name > b.name ? 1 : 0;

/**
 * Primary collation ranks of printable ASCII (digits aside) under
 * {@link collator}, and the rank of numbers: read from the collator itself
 * when the module loads, so keys sort as it does on any runtime.
 */
const [ASCII_RANK, NUMBER_RANK] = ((): [Uint8Array, number] => {
  const chars: string[] = ['0'];
  for (let c = 0x20; c < 0x7f; c++) if (c < 0x30 || c > 0x39) chars.push(String.fromCharCode(c));
  chars.sort((a, b) => collator.compare(a, b));
  const rank = new Uint8Array(128);
  let r = 1;
  let numberRank = 0;
  for (let i = 0; i < chars.length; i++) {
    if (i > 0 && collator.compare(chars[i - 1]!, chars[i]!) !== 0) r++;
    if (chars[i] === '0') numberRank = r;
    else rank[chars[i]!.charCodeAt(0)] = r;
  }
  return [rank, numberRank];
})();

/**
 * A string whose code-unit order is {@link collator}'s order of names, for
 * names of printable ASCII: each character becomes its primary rank, and a
 * run of digits becomes the number rank, its length without leading zeros,
 * and those digits (so 9 < 10, and 007 = 7).
 * @returns the key, or `null` for a name with other characters (or an
 *   absurdly long number), which only the collator orders.
 */
function sortKey(name: string): string | null {
  const key = keyCodes;
  key.length = 0;
  for (let i = 0; i < name.length; ) {
    const c = name.charCodeAt(i);
    if (c >= 0x30 && c <= 0x39) {
      let end = i + 1;
      while (end < name.length && name.charCodeAt(end) >= 0x30 && name.charCodeAt(end) <= 0x39) end++;
      let start = i;
      while (start < end - 1 && name.charCodeAt(start) === 0x30) start++;
      if (end - start > 200) return null;
      key.push(NUMBER_RANK, 0x20 + end - start);
      for (let k = start; k < end; k++) key.push(name.charCodeAt(k));
      i = end;
    } else {
      if (c < 0x20 || c > 0x7e) return null;
      key.push(ASCII_RANK[c]!);
      i++;
    }
  }
  // One string from the codes: built by `+=` a character at a time, keys cost ten times more.
  return String.fromCharCode.apply(null, key);
}
/** {@link sortKey}'s scratch space. */
const keyCodes: number[] = [];

/** Sorts entries by name without holding the event loop. */
function sortByName(entries: NameEntry[]): Promise<NameEntry[]> {
  return sortYielding(entries, entries.every((e) => e.key !== null) ? byKey : byName);
}

/**
 * Reads the names in `dir` that can be served: regular files and folders
 * (symlinks followed, but only those that stay inside the served
 * directory), without hidden names. Entries that vanish or cannot be read
 * meanwhile are left out.
 * @returns folders, then files, each sorted by name (numbers compared as numbers).
 * @throws the `readdir` error when the folder itself cannot be read.
 */
async function readNames(dir: string, policy: ListingPolicy, concurrency: number): Promise<{ folders: NameEntry[]; files: NameEntry[] }> {
  const folders: NameEntry[] = [];
  const files: NameEntry[] = [];
  const toResolve: string[] = [];
  // One round trip: Node builds 30,000 entries in a few ms (opendir's
  // entry-by-entry reads cost more in all and churn the collector).
  const dirents = await readdir(dir, { withFileTypes: true });
  let deadline = performance.now() + SLICE_MS;
  for (let i = 0; i < dirents.length; i++) {
    const d = dirents[i]!;
    if ((i & 255) === 0 && performance.now() > deadline) {
      await yieldToEventLoop();
      deadline = performance.now() + SLICE_MS;
    }
    if (policy.isHidden(d.name)) continue;
    if (d.isDirectory()) folders.push({ name: d.name, isDirectory: true, key: sortKey(d.name) });
    else if (d.isFile()) files.push({ name: d.name, isDirectory: false, key: sortKey(d.name) });
    else if (d.isSymbolicLink() || !(d.isFIFO() || d.isSocket() || d.isBlockDevice() || d.isCharacterDevice())) toResolve.push(d.name);
  }
  // Symlinks, and entries whose type the file system did not say.
  const resolved = await mapBounded(toResolve, concurrency, async (name): Promise<NameEntry | null> => {
    const full = path.join(dir, name);
    try {
      if (!policy.isInside(await realpath(full))) return null;
      const st = await stat(full);
      return st.isFile() || st.isDirectory() ? { name, isDirectory: st.isDirectory(), key: sortKey(name) } : null;
    } catch {
      return null;
    }
  });
  for (const e of resolved) if (e !== null) (e.isDirectory ? folders : files).push(e);
  return { folders: await sortByName(folders), files: await sortByName(files) };
}

/**
 * Stats the entries of one page, at most `concurrency` at a time.
 * @returns a row per entry, `null` for one that vanished, changed type or
 *   cannot be stat()ed (the folder changed since it was read, or forbids it).
 */
async function statRows(dir: string, names: readonly { readonly name: string; readonly isDirectory: boolean }[], concurrency: number): Promise<(ListingEntry | null)[]> {
  return mapBounded(names, concurrency, async (e): Promise<ListingEntry | null> => {
    try {
      const st = await stat(path.join(dir, e.name));
      if (st.isDirectory() !== e.isDirectory || (!e.isDirectory && !st.isFile())) return null;
      return { name: e.name, isDirectory: e.isDirectory, size: e.isDirectory ? 0 : st.size, mtimeMs: st.mtimeMs, ino: st.ino };
    } catch {
      return null;
    }
  });
}

function sameNames(a: readonly NameEntry[], b: readonly NameEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.isDirectory !== b[i]!.isDirectory) return false;
  return true;
}

function sameRows(a: readonly ListingEntry[], b: readonly ListingEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.name !== y.name || x.isDirectory !== y.isDirectory || x.size !== y.size || x.mtimeMs !== y.mtimeMs || x.ino !== y.ino) return false;
  }
  return true;
}


// ---------------------------------------------------------------------------
// The cache

/** How a {@link ListingCache} behaves. */
export interface ListingCacheOptions {
  /** Budget in bytes for names, stats, views and coded views kept (estimated for names and stats); default 32 MiB. */
  readonly maxBytes?: number;
  /** Entries per page; default 1,000. */
  readonly pageSize?: number;
  /** stat()/realpath() calls pending at once per request; default 64. */
  readonly statConcurrency?: number;
  /** Age in ms past which sizes and times are read again; default 1,000. */
  readonly statsMaxAgeMs?: number;
}

/** The sorted names of a folder, read when it had the identity `identity`. */
interface FolderScan {
  /** `dev-ino-mtime-ctime` of the folder before it was read, times in ns. */
  identity: string;
  /** When reading began, `performance.now()` ms. */
  readAt: number;
  /** False when the folder changed less than 1 s before it was read (see the module comment). */
  settled: boolean;
  /** Folders first, then files. */
  readonly entries: readonly NameEntry[];
  readonly folders: number;
  /** Estimated memory held, in bytes. */
  readonly bytes: number;
}

/** Every row of a scan stat()ed, and the orders cut from them. */
interface FolderStats {
  readonly scan: FolderScan;
  /** In the scan's order (folders first, by name); entries that could not be stat()ed left out. */
  readonly rows: readonly ListingEntry[];
  readonly folders: number;
  /** When the stats were read (started), `performance.now()` ms. */
  statedAt: number;
  /** Order key → the rows in that order (a promise while sorting). */
  readonly sorted: Map<string, Promise<readonly ListingEntry[]>>;
  /** A pending re-stat. */
  refreshing: Promise<FolderStats> | null;
  /** Estimated memory held, in bytes. */
  bytes: number;
}

/** A rendered view and its coded variants. */
interface ViewRecord extends CachedView {
  /** Where the view is kept. */
  readonly record: FolderRecord;
  /** The scan the view was cut from. */
  readonly scan: FolderScan;
  /** The stats it was cut from, for views that need every row's; `null` for a page in name order. */
  readonly stats: FolderStats | null;
  readonly rows: readonly ListingEntry[];
  readonly paging: ListingPaging;
  /** When the rows' stats were read (started), `performance.now()` ms. */
  statedAt: number;
  /** coding → coded body; settled variants count in {@link codedBytes}. */
  readonly coded: Map<string, Promise<Buffer>>;
  codedBytes: number;
  /** A pending re-stat of the rows (pages in name order). */
  refreshing: Promise<ViewRecord> | null;
}

/** What is kept for one folder at one URL path. */
interface FolderRecord {
  readonly key: string;
  scan: FolderScan | null;
  scanning: { readonly identity: string; readonly promise: Promise<FolderScan> } | null;
  stats: FolderStats | null;
  statting: { readonly scan: FolderScan; readonly promise: Promise<FolderStats> } | null;
  /** View key → view, or the promise of one being built. */
  readonly views: Map<string, ViewRecord | Promise<ViewRecord>>;
  /** Bytes counted against the budget. */
  bytes: number;
}

/** Bytes counted for a record however empty (its key, maps), so that records of unreadable folders are bounded too. */
const RECORD_BYTES = 512;
/** Estimated bytes of one stat()ed row (the name itself is shared with the scan). */
const ROW_BYTES = 72;
const SECOND_MS = 1000;

function orderKey(o: ListingOrder): string {
  return `${o.sort}${o.descending ? '-' : '+'}`;
}

/** Rows `first` … `first + count - 1` of the name order (ascending: the scan's; descending: each group reversed). */
function nameSlice(scan: FolderScan, descending: boolean, first: number, count: number): NameEntry[] {
  const all = scan.entries;
  const end = Math.min(all.length, first + count);
  if (!descending) return all.slice(first, end);
  const f = scan.folders;
  const out: NameEntry[] = [];
  for (let i = first; i < end; i++) out.push(i < f ? all[f - 1 - i]! : all[all.length - 1 - (i - f)]!);
  return out;
}

/**
 * The comparator of an order over rows stat()ed in name order, `index`
 * giving each row's position in that order (ties go by name).
 */
function rowComparator(o: ListingOrder, index: Map<ListingEntry, number>): (a: ListingEntry, b: ListingEntry) => number {
  const sign = o.descending ? -1 : 1;
  const byIndex = (a: ListingEntry, b: ListingEntry) => index.get(a)! - index.get(b)!;
  if (o.sort === 'size') return (a, b) => (a.size - b.size) * sign || byIndex(a, b);
  if (o.sort === 'mtime') return (a, b) => (a.mtimeMs - b.mtimeMs) * sign || byIndex(a, b);
  return (a, b) => byIndex(a, b) * sign;
}

/**
 * Listings of folders, cached (see the module comment for the freshness
 * guarantee). One instance serves any number of folders; memory held stays
 * near `maxBytes` (a folder whose names alone exceed it is not kept).
 */
export class ListingCache {
  readonly maxBytes: number;
  readonly pageSize: number;
  readonly statConcurrency: number;
  readonly statsMaxAgeMs: number;
  /** Least recently used first. */
  private readonly records = new Map<string, FolderRecord>();
  private totalBytes = 0;

  constructor(options: ListingCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? 32 * 1024 * 1024;
    this.pageSize = options.pageSize ?? 1000;
    this.statConcurrency = options.statConcurrency ?? 64;
    this.statsMaxAgeMs = options.statsMaxAgeMs ?? SECOND_MS;
  }

  /** Bytes currently counted against {@link maxBytes}. */
  get size(): number {
    return this.totalBytes;
  }

  /**
   * A view of a folder, fresh per the module comment.
   * @param dir the folder's real path.
   * @param folderKey names the folder as listed (its URL path, whether it shows a parent link, …): views of one key share names and stats.
   * @param policy which entries may be shown.
   * @param view which rows, in which order, rendered how.
   * @returns the view; `undefined` when `view.page` is past the last page.
   * @throws FolderChanged when the folder changed under the read twice;
   *   the file system's error (ENOENT, EACCES, …) when it cannot be read.
   */
  async view(dir: string, folderKey: string, policy: ListingPolicy, view: ListingView): Promise<CachedView | undefined> {
    // A folder that changes while a view is built is read again, once.
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.viewOnce(dir, folderKey, policy, view, attempt > 0);
      } catch (e) {
        if (!(e instanceof FolderChanged) || attempt > 0) throw e;
      }
    }
  }

  /**
   * `view`'s body coded with `coding` (gzip, br, deflate), coded once on the
   * thread pool and kept with the view.
   * @param view a view this cache returned.
   */
  coded(view: CachedView, coding: string): Promise<Buffer> {
    const v = view as ViewRecord;
    let promise = v.coded.get(coding);
    if (promise === undefined) {
      promise = encode(coding, v.body);
      v.coded.set(coding, promise);
      promise.then(
        (buf) => {
          v.codedBytes += buf.length;
          this.resize(v.record);
        },
        () => v.coded.delete(coding),
      );
    }
    return promise;
  }

  /** The record for a folder, made most recently used. */
  private record(key: string): FolderRecord {
    let record = this.records.get(key);
    if (record !== undefined) this.records.delete(key);
    else record = { key, scan: null, scanning: null, stats: null, statting: null, views: new Map(), bytes: 0 };
    this.records.set(key, record);
    if (record.bytes === 0) this.resize(record);
    return record;
  }

  /**
   * @param reread read the folder again even if its identity is unchanged,
   *   and build the view anew, leaving out entries that cannot be stat()ed.
   * @throws FolderChanged, or the error reading the folder.
   */
  private async viewOnce(dir: string, folderKey: string, policy: ListingPolicy, v: ListingView, reread: boolean): Promise<ViewRecord | undefined> {
    const record = this.record(folderKey);
    const scan = await this.scan(record, dir, policy, reread);
    const total = scan.entries.length;
    const pageCount = v.page === 0 ? 1 : Math.max(1, Math.ceil(total / this.pageSize));
    if (v.page > pageCount) return undefined;
    const key = `${v.page}|${orderKey(v.order)}|${v.key}`;
    if (reread) record.views.delete(key);
    const slot = record.views.get(key);
    let view = slot instanceof Promise ? await slot : slot;
    if (v.page !== 0 && v.order.sort === 'name') {
      // A page in name order: only its own rows are stat()ed.
      if (view === undefined || view.scan !== scan) {
        const building = this.buildPage(record, dir, scan, v, pageCount, reread);
        this.setView(record, key, building, scan);
        view = await building;
      }
      if (performance.now() - view.statedAt <= this.statsMaxAgeMs) return view;
      view.refreshing ??= this.refreshPage(record, key, dir, view, v);
      return view.refreshing;
    }
    const stats = await this.stats(record, dir, scan, reread);
    if (view === undefined || view.stats !== stats) {
      const building = this.buildFromStats(record, stats, v, pageCount);
      this.setView(record, key, building, scan);
      view = await building;
    }
    return view;
  }

  /** Stores a view being built in `record`, then the view once built (if the folder was not read again meanwhile). */
  private setView(record: FolderRecord, key: string, building: Promise<ViewRecord>, scan: FolderScan): void {
    record.views.set(key, building);
    building.then(
      (view) => {
        if (record.views.get(key) === building) {
          if (record.scan === scan) record.views.set(key, view);
          else record.views.delete(key);
          this.resize(record);
        }
      },
      () => {
        if (record.views.get(key) === building) record.views.delete(key);
      },
    );
  }

  /** The current names of the folder, read again when its identity changed. */
  private async scan(record: FolderRecord, dir: string, policy: ListingPolicy, reread: boolean): Promise<FolderScan> {
    const st = statSync(dir, { bigint: true });
    if (!st.isDirectory()) throw Object.assign(new Error('not a folder'), { code: 'ENOTDIR' });
    const identity = `${st.dev}-${st.ino}-${st.mtimeNs}-${st.ctimeNs}`;
    const s = record.scan;
    if (!reread && s !== null && s.identity === identity && (s.settled || performance.now() - s.readAt < SECOND_MS)) return s;
    const pending = record.scanning;
    if (pending !== null && pending.identity === identity && !reread) return pending.promise;
    const changedMs = Number((st.ctimeNs > st.mtimeNs ? st.ctimeNs : st.mtimeNs) / 1_000_000n);
    const readAt = performance.now();
    const settled = changedMs < Date.now() - SECOND_MS;
    const promise = readNames(dir, policy, this.statConcurrency).then(({ folders, files }) => {
      const entries = folders.concat(files);
      const old = record.scan;
      if (old !== null && record.scanning?.promise === promise && sameNames(old.entries, entries)) {
        // Nothing shown changed (a hidden name did, or the read was only
        // made again to be sure): the views and their entity-tags stay.
        Object.assign(old, { identity, readAt, settled });
        record.scanning = null;
        return old;
      }
      let bytes = 256;
      for (const e of entries) bytes += 80 + 2 * e.name.length + 2 * (e.key?.length ?? 0);
      const scan: FolderScan = { identity, readAt, settled, entries, folders: folders.length, bytes };
      if (record.scanning?.promise === promise) {
        record.scanning = null;
        record.scan = scan;
        record.stats = null;
        record.views.clear();
        this.resize(record);
      }
      return scan;
    });
    promise.catch(() => {
      if (record.scanning?.promise === promise) record.scanning = null;
    });
    record.scanning = { identity, promise };
    return promise;
  }

  /**
   * Every row of `scan` stat()ed, fresh (read at most `statsMaxAgeMs` ago).
   * @param tolerant leave out entries that cannot be stat()ed (the folder was just read again).
   * @throws FolderChanged when an entry vanished or changed type, unless `tolerant`.
   */
  private async stats(record: FolderRecord, dir: string, scan: FolderScan, tolerant: boolean): Promise<FolderStats> {
    const s = record.stats;
    if (!tolerant && s !== null && s.scan === scan) {
      if (performance.now() - s.statedAt <= this.statsMaxAgeMs) return s;
      s.refreshing ??= this.refreshStats(record, dir, s);
      return s.refreshing;
    }
    const pending = record.statting;
    if (!tolerant && pending !== null && pending.scan === scan) return pending.promise;
    const promise = (async (): Promise<FolderStats> => {
      const statedAt = performance.now();
      const stated = await statRows(dir, scan.entries, this.statConcurrency);
      const rows = stated.filter((r): r is ListingEntry => r !== null);
      if (rows.length < stated.length && !tolerant) throw new FolderChanged();
      return this.keepStats(record, scan, rows, statedAt);
    })();
    record.statting = { scan, promise };
    const clear = () => {
      if (record.statting?.promise === promise) record.statting = null;
    };
    promise.then(clear, clear);
    return promise;
  }

  /** Makes stats of `rows` and keeps them in `record` when `scan` is still its scan. */
  private keepStats(record: FolderRecord, scan: FolderScan, rows: readonly ListingEntry[], statedAt: number): FolderStats {
    let folders = 0;
    while (folders < rows.length && rows[folders]!.isDirectory) folders++;
    const stats: FolderStats = { scan, rows, folders, statedAt, sorted: new Map(), refreshing: null, bytes: 256 + rows.length * ROW_BYTES };
    if (record.scan === scan) {
      record.stats = stats;
      this.resize(record);
    }
    return stats;
  }

  /** Reads the stats again; the same object when no row changed (its views stay). */
  private async refreshStats(record: FolderRecord, dir: string, s: FolderStats): Promise<FolderStats> {
    try {
      const statedAt = performance.now();
      const stated = await statRows(dir, s.rows, this.statConcurrency);
      if (stated.includes(null)) throw new FolderChanged();
      const rows = stated as ListingEntry[];
      if (sameRows(rows, s.rows)) {
        s.statedAt = statedAt;
        return s;
      }
      return this.keepStats(record, s.scan, rows, statedAt);
    } finally {
      s.refreshing = null;
    }
  }

  /** The rows of `stats` in order `o`, sorted once (without holding the event loop) and kept. */
  private ordered(record: FolderRecord, stats: FolderStats, o: ListingOrder): Promise<readonly ListingEntry[]> {
    const key = orderKey(o);
    let promise = stats.sorted.get(key);
    if (promise === undefined) {
      const rows = stats.rows;
      if (o.sort === 'name' && !o.descending) promise = Promise.resolve(rows);
      else {
        const index = new Map<ListingEntry, number>();
        rows.forEach((r, i) => index.set(r, i));
        const cmp = rowComparator(o, index);
        promise = Promise.all([sortYielding(rows.slice(0, stats.folders), cmp), sortYielding(rows.slice(stats.folders), cmp)]).then(([f, r]) => f.concat(r));
        stats.bytes += 8 * rows.length;
        this.resize(record);
      }
      stats.sorted.set(key, promise);
    }
    return promise;
  }

  /** Cuts and renders a view from every row's stats. */
  private async buildFromStats(record: FolderRecord, stats: FolderStats, v: ListingView, pageCount: number): Promise<ViewRecord> {
    const ordered = await this.ordered(record, stats, v.order);
    const first = v.page === 0 ? 0 : (v.page - 1) * this.pageSize;
    const rows = v.page === 0 ? ordered : ordered.slice(first, first + this.pageSize);
    const paging: ListingPaging = { page: Math.max(1, v.page), pageCount, first, total: stats.rows.length, folders: stats.folders };
    return this.render(record, stats.scan, stats, rows, paging, stats.statedAt, v);
  }

  /**
   * Stats and renders a page in name order.
   * @param tolerant leave out entries that cannot be stat()ed (the folder was just read again).
   * @throws FolderChanged when an entry vanished or changed type, unless `tolerant`.
   */
  private async buildPage(record: FolderRecord, dir: string, scan: FolderScan, v: ListingView, pageCount: number, tolerant: boolean): Promise<ViewRecord> {
    const first = (v.page - 1) * this.pageSize;
    const statedAt = performance.now();
    const stated = await statRows(dir, nameSlice(scan, v.order.descending, first, this.pageSize), this.statConcurrency);
    const rows = stated.filter((r): r is ListingEntry => r !== null);
    if (rows.length < stated.length && !tolerant) throw new FolderChanged();
    const paging: ListingPaging = { page: v.page, pageCount, first, total: scan.entries.length, folders: scan.folders };
    return this.render(record, scan, null, rows, paging, statedAt, v);
  }

  private async render(record: FolderRecord, scan: FolderScan, stats: FolderStats | null, rows: readonly ListingEntry[], paging: ListingPaging, statedAt: number, v: ListingView): Promise<ViewRecord> {
    const rendered = await v.render(rows, paging);
    const body = typeof rendered === 'string' ? Buffer.from(rendered) : rendered;
    const tag = createHash('sha1').update(body).digest('base64url');
    return { record, scan, stats, rows, paging, statedAt, body, tag, coded: new Map(), codedBytes: 0, refreshing: null };
  }

  /** Reads a name-order page's stats again; re-renders only when a row changed. */
  private async refreshPage(record: FolderRecord, key: string, dir: string, view: ViewRecord, v: ListingView): Promise<ViewRecord> {
    try {
      const statedAt = performance.now();
      const stated = await statRows(dir, view.rows, this.statConcurrency);
      if (stated.includes(null)) throw new FolderChanged();
      const rows = stated as ListingEntry[];
      if (sameRows(rows, view.rows)) {
        view.statedAt = statedAt;
        return view;
      }
      const fresh = await this.render(record, view.scan, null, rows, view.paging, statedAt, v);
      if (record.views.get(key) === view) {
        record.views.set(key, fresh);
        this.resize(record);
      }
      return fresh;
    } finally {
      view.refreshing = null;
    }
  }

  /** Re-counts the bytes `record` holds and evicts past the budget. */
  private resize(record: FolderRecord): void {
    if (this.records.get(record.key) !== record) return;
    let bytes = RECORD_BYTES + (record.scan?.bytes ?? 0) + (record.stats?.bytes ?? 0);
    for (const v of record.views.values()) if (!(v instanceof Promise)) bytes += v.body.length + v.codedBytes;
    this.totalBytes += bytes - record.bytes;
    record.bytes = bytes;
    this.evict(record);
  }

  /** Drops least recently used records, then `keep`'s views and stats, then `keep`, until within budget. */
  private evict(keep: FolderRecord): void {
    for (const [key, record] of this.records) {
      if (this.totalBytes <= this.maxBytes) return;
      if (record === keep) continue;
      this.records.delete(key);
      this.totalBytes -= record.bytes;
    }
    if (this.totalBytes <= this.maxBytes) return;
    for (const [k, v] of keep.views) if (!(v instanceof Promise)) keep.views.delete(k);
    keep.stats = null;
    const bytes = RECORD_BYTES + (keep.scan?.bytes ?? 0);
    this.totalBytes += bytes - keep.bytes;
    keep.bytes = bytes;
    if (this.totalBytes > this.maxBytes) {
      this.records.delete(keep.key);
      this.totalBytes -= keep.bytes;
    }
  }
}
