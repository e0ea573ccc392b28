/**
 * The HTML page listing a folder that has no `index.html`: names (escaped),
 * sizes, modification times, folders first then names in natural order, a
 * parent link; laid out to read well on a desktop and on a phone, in light
 * or dark, and working without JavaScript.
 *
 * Large folders (anyone who can PUT can make one of 30,000 files) must not
 * stall other clients, so:
 * - A folder is listed in pages of at most {@link ListingCacheOptions.pageSize}
 *   entries (`?page=N`, 1-based), with links to the previous and next pages;
 *   the footer gives the folder's totals. Only the rows of the page sent are
 *   stat()ed, at most {@link ListingCacheOptions.statConcurrency} at a time.
 * - Names are read with one `readdir` (Node builds 30,000 entries in a few
 *   ms), then keyed and sorted in slices of a few ms that yield to the event
 *   loop in between. Keys (printable-ASCII names) sort as `Intl.Collator`
 *   does at a fifth of its cost; other names are compared by the collator.
 * - Pages are coded (gzip, br, deflate) on the thread pool, never on the
 *   event loop; the handler negotiates the coding itself (`codingNegotiated`),
 *   sends a weak `ETag` (a digest of the page, per coding) and answers
 *   `If-None-Match` with 304.
 *
 * Cache and freshness guarantee. A {@link ListingCache} keeps, per folder and
 * URL path, the sorted names and types, and each page's HTML and its coded
 * variants, least recently used first out past a budget in bytes. Each
 * request makes one synchronous stat() of the folder (no thread-pool round
 * trip), and:
 * - the names and types shown are those the folder had at its current
 *   (dev, ino, mtime, ctime): adding, removing or renaming an entry changes
 *   the folder's mtime, so the next request reads the folder again. As file
 *   systems stamp times with a coarse clock, a change in the same tick as a
 *   read could leave the times equal: a read made less than 1 s after the
 *   folder's last change is trusted only for 1 s, then made again.
 * - sizes and modification times shown were read at most
 *   {@link ListingCacheOptions.statsMaxAgeMs} (1 s) before the request: a
 *   file rewritten in place does not change its folder's times, so a
 *   page's rows are stat()ed again once their stats are older than that
 *   (and the page re-rendered only if a row changed).
 * - a folder read again that shows the same names keeps its pages and tags
 *   (a hidden name, such as an upload's temporary file, changed).
 * Memory: names are counted at an estimate of their size, pages and coded
 * pages at theirs; past {@link ListingCacheOptions.maxBytes}, the least
 * recently listed folders go first. A folder whose names alone exceed the
 * budget is read again for every request (concurrent requests share a read).
 * A symlink is listed when it leads to a file or folder inside the served
 * directory, as resolved when the folder was read; a target that turns from
 * file to folder (or goes) shows when the page's stats are next read.
 */

import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { SUPPORTED_CODINGS, encode } from '../http/codecs.js';
import { etagListMatches } from '../http/conditional.js';
import { negotiateContentCoding, notAcceptableResponse } from '../http/content-coding.js';
import type { Request } from '../http/request.js';
import type { HeaderFields, Response } from '../http/response.js';

/** One row of a listing. */
export interface ListingEntry {
  /** The entry's name in its directory, as on disk (not encoded). */
  readonly name: string;
  readonly isDirectory: boolean;
  /** Size in bytes (0 for directories). */
  readonly size: number;
  /** Modification time in ms since the epoch. */
  readonly mtimeMs: number;
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

/** Escapes text for HTML content and double-quoted attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** `1536` → `"1.5 KiB"`: sizes in binary units, three significant figures at most. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

// ---------------------------------------------------------------------------
// Rendering

function row(e: ListingEntry): string {
  const href = encodeURIComponent(e.name) + (e.isDirectory ? '/' : '');
  const label = escapeHtml(e.name) + (e.isDirectory ? '/' : '');
  const iso = new Date(e.mtimeMs).toISOString();
  const day = iso.slice(0, 10);
  const time = iso.slice(11, 16);
  const size = e.isDirectory ? '—' : `<span title="${e.size} bytes">${formatSize(e.size)}</span>`;
  return (
    `<tr class="${e.isDirectory ? 'dir' : 'file'}"><td class="name"><a href="${href}">${label}</a></td>` +
    `<td class="size">${size}</td><td class="mtime"><time datetime="${iso}">${day}<span class="time"> ${time}</span></time></td></tr>`
  );
}

const STYLE = `
:root{color-scheme:light dark;--fg:#1d2126;--muted:#5f6b78;--line:#e3e7ec;--link:#0b57d0;--bg:#fff;--hover:#f3f6fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ed;--muted:#9aa5b1;--line:#2c333b;--link:#8ab4f8;--bg:#16191d;--hover:#1f242a}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:960px;margin:0 auto;padding:16px}
h1{font-size:1.25rem;font-weight:600;margin:8px 0 16px;overflow-wrap:anywhere}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:.8rem;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;padding:6px 8px;border-bottom:2px solid var(--line)}
td{padding:10px 8px;border-bottom:1px solid var(--line);vertical-align:top}
tr:hover td{background:var(--hover)}
td.name{overflow-wrap:anywhere;width:100%}
td.name a{color:var(--link);text-decoration:none;display:block}
td.name a:hover{text-decoration:underline}
tr.dir td.name a{font-weight:600}
td.size,td.mtime,th.size,th.mtime{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
td.size,th.size{text-align:right}
footer{color:var(--muted);font-size:.85rem;margin-top:12px}
nav.pages{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin:12px 0;font-size:.9rem}
nav.pages a{color:var(--link)}
nav.pages form{display:flex;gap:6px;align-items:center;margin:0}
nav.pages input{width:6em;font:inherit}
@media (max-width:560px){main{padding:12px 8px}td{padding:12px 6px}.time{display:none}th.mtime,td.mtime{font-size:.85rem}}
`;

/** `1234` → `"1,234"`, the same on every host (no locale data needed). */
function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The link to page `n`: page 1 is the folder's own URL. */
function pageHref(n: number): string {
  return n === 1 ? './' : `?page=${n}`;
}

/** Previous/next links and a page form that works without script. */
function pageNav(p: ListingPaging): string {
  const prev = p.page > 1 ? `<a href="${pageHref(p.page - 1)}" rel="prev">← Previous</a>` : '';
  const next = p.page < p.pageCount ? `<a href="${pageHref(p.page + 1)}" rel="next">Next →</a>` : '';
  return (
    `<nav class="pages">${prev}<span>Page ${p.page} of ${p.pageCount}</span>${next}` +
    `<form method="get"><label>Page <input type="number" name="page" min="1" max="${p.pageCount}" value="${p.page}"></label><button type="submit">Go</button></form></nav>`
  );
}

/**
 * One page of a listing.
 * @param urlPath the folder's decoded URL path, shown as the title (e.g. `/files/docs/`).
 * @param entries the page's rows, already sorted.
 * @param hasParent whether to offer a link to `../` (false at the top of the served directory).
 * @param paging where the page sits; omitted, `entries` is the whole listing.
 * @returns a complete HTML document, UTF-8 text.
 */
export function renderListing(urlPath: string, entries: readonly ListingEntry[], hasParent: boolean, paging?: ListingPaging): string {
  const p: ListingPaging = paging ?? {
    page: 1,
    pageCount: 1,
    first: 0,
    total: entries.length,
    folders: entries.filter((e) => e.isDirectory).length,
  };
  const title = `Index of ${escapeHtml(urlPath)}`;
  const parent = hasParent
    ? '<tr class="dir parent"><td class="name"><a href="../">../ <small>(parent folder)</small></a></td><td class="size"></td><td class="mtime"></td></tr>'
    : '';
  const files = p.total - p.folders;
  const nav = p.pageCount > 1 ? pageNav(p) : '';
  const range = p.pageCount > 1 ? `; entries ${count(p.first + 1)}–${count(p.first + entries.length)} shown` : '';
  let rows = '';
  for (const e of entries) rows += row(e);
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title><style>${STYLE}</style></head>` +
    `<body><main><h1>${title}</h1>${nav}<table><thead><tr><th class="name">Name</th><th class="size">Size</th><th class="mtime">Modified (UTC)</th></tr></thead><tbody>` +
    parent +
    rows +
    `</tbody></table>${nav}<footer>${count(p.folders)} folder${p.folders === 1 ? '' : 's'}, ${count(files)} file${files === 1 ? '' : 's'}${range}</footer></main></body></html>\n`
  );
}

// ---------------------------------------------------------------------------
// Reading a folder without holding the event loop

/** Longest stretch of reading or sorting names done before yielding to the event loop, in ms. */
const SLICE_MS = 4;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Runs `f` over `items`, at most `limit` calls pending at once.
 * @returns the results in the order of `items`.
 */
async function mapBounded<T, R>(items: readonly T[], limit: number, f: (item: T) => Promise<R>): Promise<R[]> {
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
async function sortYielding<T>(items: T[], cmp: (a: T, b: T) => number): Promise<T[]> {
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

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
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
      return { name: e.name, isDirectory: e.isDirectory, size: e.isDirectory ? 0 : st.size, mtimeMs: st.mtimeMs };
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
  for (let i = 0; i < a.length; i++) if (a[i]!.size !== b[i]!.size || a[i]!.mtimeMs !== b[i]!.mtimeMs) return false;
  return true;
}

// ---------------------------------------------------------------------------
// The cache

/** How a {@link ListingCache} behaves. */
export interface ListingCacheOptions {
  /** Budget in bytes for names, pages and coded pages kept (estimated for names); default 32 MiB. */
  readonly maxBytes?: number;
  /** Entries per page; default 1,000. */
  readonly pageSize?: number;
  /** stat()/realpath() calls pending at once per request; default 64. */
  readonly statConcurrency?: number;
  /** Age in ms past which a page's sizes and times are read again; default 1,000. */
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

/** A rendered page and its coded variants. */
interface PageRecord {
  /** Where the page is kept. */
  readonly record: FolderRecord;
  /** The scan the page was cut from. */
  readonly scan: FolderScan;
  readonly rows: readonly ListingEntry[];
  /** When the rows' stats were read (started), `performance.now()` ms. */
  statedAt: number;
  /** The HTML, UTF-8. */
  readonly body: Buffer;
  /** Opaque part of the entity-tag: a digest of `body`. */
  readonly tag: string;
  /** coding → coded body; settled variants count in {@link codedBytes}. */
  readonly coded: Map<string, Promise<Buffer>>;
  codedBytes: number;
  /** A pending re-stat of the rows. */
  refreshing: Promise<PageRecord> | null;
}

/** What is kept for one folder at one URL path. */
interface FolderRecord {
  readonly key: string;
  scan: FolderScan | null;
  scanning: { readonly identity: string; readonly promise: Promise<FolderScan> } | null;
  /** page number → page, or the promise of one being built. */
  readonly pages: Map<number, PageRecord | Promise<PageRecord>>;
  /** Bytes counted against the budget. */
  bytes: number;
}

/** Thrown inside a request when the folder changed under a page being built: read it again. */
class FolderChanged extends Error {}

const HTML = 'text/html; charset=utf-8';
/** Bytes counted for a record however empty (its key, maps), so that records of unreadable folders are bounded too. */
const RECORD_BYTES = 512;
const SECOND_MS = 1000;

/** The `page` query parameter: 1 when absent, `null` when not a page number. */
function requestedPage(query: string): number | null {
  if (query === '') return 1;
  for (const param of query.split('&')) {
    const eq = param.indexOf('=');
    if ((eq === -1 ? param : param.slice(0, eq)) !== 'page') continue;
    const value = eq === -1 ? '' : param.slice(eq + 1);
    return /^[1-9][0-9]{0,8}$/.test(value) ? Number(value) : null;
  }
  return 1;
}

function statusOf(e: unknown): number {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 403;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 404;
  throw e;
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

  /** Answers a request for a listing page: see {@link listingResponse}. */
  async respond(req: Request, dir: string, urlPath: string, hasParent: boolean, policy: ListingPolicy): Promise<Response> {
    const coding = negotiateContentCoding(req.fields.get('accept-encoding'), SUPPORTED_CODINGS);
      if (coding === null) return notAcceptableResponse(SUPPORTED_CODINGS);
    const pageNumber = requestedPage(req.query);
    if (pageNumber === null) return { status: 404 };
    let page: PageRecord | null | undefined = null;
    try {
      // A folder that changes while a page is built is read again, once.
      for (let attempt = 0; page === null; attempt++) {
        try {
          page = await this.page(dir, urlPath, hasParent, policy, pageNumber, attempt > 0);
        } catch (e) {
          if (!(e instanceof FolderChanged) || attempt > 0) throw e;
        }
      }
    } catch (e) {
      if (e instanceof FolderChanged) return { status: 503, headers: { 'Retry-After': '1' } };
      return { status: statusOf(e) };
    }
    if (page === undefined) return { status: 404 }; // past the last page
    const etag = `W/"${page.tag}${coding === 'identity' ? '' : `-${coding}`}"`;
    const ifMatch = req.fields.get('if-match');
    // A weak tag never matches strongly (RFC 9110 §13.1.1): only `*` passes.
    if (ifMatch !== undefined && !etagListMatches(ifMatch, etag, false)) return { status: 412, codingNegotiated: true };
    const ifNoneMatch = req.fields.get('if-none-match');
    if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, etag, true)) {
      return { status: 304, headers: { ETag: etag, Vary: 'Accept-Encoding' }, codingNegotiated: true };
    }
    const headers: HeaderFields = { 'Content-Type': HTML, Vary: 'Accept-Encoding', ETag: etag };
    if (coding === 'identity') return { status: 200, headers, body: page.body, codingNegotiated: true };
    headers['Content-Encoding'] = coding;
    return { status: 200, headers, body: await this.coded(page, coding), codingNegotiated: true };
  }

  /** The record for a folder at a URL path, made most recently used. */
  private record(key: string): FolderRecord {
    let record = this.records.get(key);
    if (record !== undefined) this.records.delete(key);
    else record = { key, scan: null, scanning: null, pages: new Map(), bytes: 0 };
    this.records.set(key, record);
    if (record.bytes === 0) this.resize(record);
    return record;
  }

  /**
   * The page, fresh per the module comment; `undefined` past the last page.
   * @param reread read the folder again even if its identity is unchanged,
   *   and build the page anew, leaving out entries that cannot be stat()ed.
   * @throws FolderChanged, or the error reading the folder.
   */
  private async page(dir: string, urlPath: string, hasParent: boolean, policy: ListingPolicy, n: number, reread: boolean): Promise<PageRecord | undefined> {
    const key = `${hasParent ? 1 : 0}${urlPath}\0${dir}`;
    const record = this.record(key);
    const scan = await this.scan(record, dir, policy, reread);
    const pageCount = Math.max(1, Math.ceil(scan.entries.length / this.pageSize));
    if (n > pageCount) return undefined;
    if (reread) record.pages.delete(n);
    const slot = record.pages.get(n);
    let page = slot instanceof Promise ? await slot : slot;
    if (page === undefined || page.scan !== scan) {
      const building = this.build(record, dir, urlPath, hasParent, scan, n, pageCount, reread);
      this.setPage(record, n, building, scan);
      page = await building;
    }
    if (performance.now() - page.statedAt <= this.statsMaxAgeMs) return page;
    page.refreshing ??= this.refresh(record, dir, urlPath, hasParent, page, n, pageCount);
    return page.refreshing;
  }

  /** Stores a page being built in `record`, then the page once built (if the folder was not read again meanwhile). */
  private setPage(record: FolderRecord, n: number, building: Promise<PageRecord>, scan: FolderScan): void {
    record.pages.set(n, building);
    building.then(
      (page) => {
        if (record.pages.get(n) === building) {
          if (record.scan === scan) record.pages.set(n, page);
          else record.pages.delete(n);
          this.resize(record);
        }
      },
      () => {
        if (record.pages.get(n) === building) record.pages.delete(n);
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
        // made again to be sure): the pages and their entity-tags stay.
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
        record.pages.clear();
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
   * Stats and renders page `n` of `scan`.
   * @param tolerant leave out entries that cannot be stat()ed (the folder was just read again).
   * @throws FolderChanged when an entry vanished or changed type, unless `tolerant`.
   */
  private async build(record: FolderRecord, dir: string, urlPath: string, hasParent: boolean, scan: FolderScan, n: number, pageCount: number, tolerant: boolean): Promise<PageRecord> {
    const first = (n - 1) * this.pageSize;
    const statedAt = performance.now();
    const stated = await statRows(dir, scan.entries.slice(first, first + this.pageSize), this.statConcurrency);
    const rows = stated.filter((r): r is ListingEntry => r !== null);
    if (rows.length < stated.length && !tolerant) throw new FolderChanged();
    return this.render(record, urlPath, hasParent, scan, rows, statedAt, { page: n, pageCount, first, total: scan.entries.length, folders: scan.folders });
  }

  private render(record: FolderRecord, urlPath: string, hasParent: boolean, scan: FolderScan, rows: ListingEntry[], statedAt: number, paging: ListingPaging): PageRecord {
    const body = Buffer.from(renderListing(urlPath, rows, hasParent, paging));
    const tag = createHash('sha1').update(body).digest('base64url');
    return { record, scan, rows, statedAt, body, tag, coded: new Map(), codedBytes: 0, refreshing: null };
  }

  /** Reads the page's stats again; re-renders only when a row changed. */
  private async refresh(record: FolderRecord, dir: string, urlPath: string, hasParent: boolean, page: PageRecord, n: number, pageCount: number): Promise<PageRecord> {
    try {
      const statedAt = performance.now();
      const stated = await statRows(dir, page.rows, this.statConcurrency);
      if (stated.includes(null)) throw new FolderChanged();
      const rows = stated as ListingEntry[];
      if (sameRows(rows, page.rows)) {
        page.statedAt = statedAt;
        return page;
      }
      const first = (n - 1) * this.pageSize;
      const scan = page.scan;
      const fresh = this.render(record, urlPath, hasParent, scan, rows, statedAt, { page: n, pageCount, first, total: scan.entries.length, folders: scan.folders });
      if (record.pages.get(n) === page) {
        record.pages.set(n, fresh);
        this.resize(record);
      }
      return fresh;
    } finally {
      page.refreshing = null;
    }
  }

  /** The page coded with `coding`, coded once on the thread pool and kept. */
  private coded(page: PageRecord, coding: string): Promise<Buffer> {
    let promise = page.coded.get(coding);
    if (promise === undefined) {
      promise = encode(coding, page.body);
      page.coded.set(coding, promise);
      promise.then(
        (buf) => {
          page.codedBytes += buf.length;
          this.resize(page.record);
        },
        () => page.coded.delete(coding),
      );
    }
    return promise;
  }

  /** Re-counts the bytes `record` holds and evicts past the budget. */
  private resize(record: FolderRecord): void {
    if (this.records.get(record.key) !== record) return;
    let bytes = RECORD_BYTES + (record.scan?.bytes ?? 0);
    for (const p of record.pages.values()) if (!(p instanceof Promise)) bytes += p.body.length + p.codedBytes;
    this.totalBytes += bytes - record.bytes;
    record.bytes = bytes;
    this.evict(record);
  }

  /** Drops least recently used records, then `keep`'s pages, then `keep`, until within budget. */
  private evict(keep: FolderRecord): void {
    for (const [key, record] of this.records) {
      if (this.totalBytes <= this.maxBytes) return;
      if (record === keep) continue;
      this.records.delete(key);
      this.totalBytes -= record.bytes;
    }
    if (this.totalBytes <= this.maxBytes) return;
    for (const [n, p] of keep.pages) if (!(p instanceof Promise)) keep.pages.delete(n);
    const bytes = RECORD_BYTES + (keep.scan?.bytes ?? 0);
    this.totalBytes += bytes - keep.bytes;
    keep.bytes = bytes;
    if (this.totalBytes > this.maxBytes) {
      this.records.delete(keep.key);
      this.totalBytes -= keep.bytes;
    }
  }
}

/** The cache {@link listingResponse} uses unless given another. */
export const defaultListingCache = new ListingCache();

/**
 * Answers `GET`/`HEAD` for a folder that has no `index.html`, one page at a
 * time (`?page=N`). Negotiates the content coding itself (RFC 9110 §12.5.3):
 * gzip, br or deflate, coded off the event loop; `HEAD` gets the same head.
 * Sends a weak `ETag` and answers `If-None-Match` with 304 (RFC 9110 §13.1.2).
 * @param req the request (its query may name a page).
 * @param dir the folder's real path, inside the served directory.
 * @param urlPath the folder's decoded URL path, ending in `/`.
 * @param hasParent whether a parent link is shown.
 * @param policy which entries may be shown.
 * @param cache where listings are kept (the shared default otherwise).
 * @returns 200 with the HTML page; 304; 403 when the folder cannot be read;
 *   404 when it is gone or the page does not exist; 406 when no acceptable
 *   coding remains; 412 for a failed `If-Match`; 503 when the folder keeps
 *   changing under the read.
 */
export function listingResponse(
  req: Request,
  dir: string,
  urlPath: string,
  hasParent: boolean,
  policy: ListingPolicy,
  cache: ListingCache = defaultListingCache,
): Promise<Response> {
  return cache.respond(req, dir, urlPath, hasParent, policy);
}
