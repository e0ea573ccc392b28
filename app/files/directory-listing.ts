/**
 * The HTML page listing a directory that has no `index.html`: names
 * (escaped), sizes, modification times, folders first, a parent link;
 * laid out to read well on a desktop and on a phone, in light or dark.
 */

import type { Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Request } from '../http/request.js';
import type { Response } from '../http/response.js';

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

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

/**
 * Reads the entries of `dir` that can be served: regular files and
 * directories (symlinks followed, but only those that stay inside the
 * served directory), without hidden names. Entries that vanish
 * or cannot be read while listing are left out.
 * @returns entries sorted folders first, then by name (numbers in names compared as numbers).
 * @throws the `readdir` error when the directory itself cannot be read.
 */
export async function readListing(dir: string, policy: ListingPolicy): Promise<ListingEntry[]> {
  const dirents = await readdir(dir, { withFileTypes: true });
  const entries = await Promise.all(dirents.map((d) => entryOf(dir, d, policy)));
  return entries
    .filter((e): e is ListingEntry => e !== null)
    .sort((a, b) => (a.isDirectory !== b.isDirectory ? (a.isDirectory ? -1 : 1) : collator.compare(a.name, b.name) || (a.name < b.name ? -1 : 1)));
}

async function entryOf(dir: string, d: Dirent, policy: ListingPolicy): Promise<ListingEntry | null> {
  if (policy.isHidden(d.name)) return null;
  const full = path.join(dir, d.name);
  try {
    if (d.isSymbolicLink() && !policy.isInside(await realpath(full))) return null;
    const st = await stat(full);
    if (!st.isFile() && !st.isDirectory()) return null;
    return { name: d.name, isDirectory: st.isDirectory(), size: st.isDirectory() ? 0 : st.size, mtimeMs: st.mtimeMs };
  } catch {
    return null;
  }
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
@media (max-width:560px){main{padding:12px 8px}td{padding:12px 6px}.time{display:none}th.mtime,td.mtime{font-size:.85rem}}
`;

/**
 * The listing page.
 * @param urlPath the directory's decoded URL path, shown as the title (e.g. `/files/docs/`).
 * @param entries rows, already sorted.
 * @param hasParent whether to offer a link to `../` (false at the top of the served directory).
 * @returns a complete HTML document, UTF-8 text.
 */
export function renderListing(urlPath: string, entries: readonly ListingEntry[], hasParent: boolean): string {
  const title = `Index of ${escapeHtml(urlPath)}`;
  const parent = hasParent
    ? '<tr class="dir parent"><td class="name"><a href="../">../ <small>(parent folder)</small></a></td><td class="size"></td><td class="mtime"></td></tr>'
    : '';
  const dirs = entries.filter((e) => e.isDirectory).length;
  const files = entries.length - dirs;
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><title>${title}</title><style>${STYLE}</style></head>` +
    `<body><main><h1>${title}</h1><table><thead><tr><th class="name">Name</th><th class="size">Size</th><th class="mtime">Modified (UTC)</th></tr></thead><tbody>` +
    parent +
    entries.map(row).join('') +
    `</tbody></table><footer>${dirs} folder${dirs === 1 ? '' : 's'}, ${files} file${files === 1 ? '' : 's'}</footer></main></body></html>\n`
  );
}

const HTML = 'text/html; charset=utf-8';

/**
 * Answers `GET`/`HEAD` for a folder that has no `index.html`.
 * @param req the request.
 * @param dir the folder's real path, inside the served directory.
 * @param urlPath the folder's decoded URL path, ending in `/`.
 * @param hasParent whether a parent link is shown.
 * @param policy which entries may be shown.
 * @returns 200 with the HTML page; 403 when the folder cannot be read, 404 when it is gone.
 */
export async function listingResponse(req: Request, dir: string, urlPath: string, hasParent: boolean, policy: ListingPolicy): Promise<Response> {
  void req;
  let entries;
  try {
    entries = await readListing(dir, policy);
  } catch (e) {
    return { status: (e as NodeJS.ErrnoException).code === 'EACCES' ? 403 : 404 };
  }
  return { status: 200, headers: { 'Content-Type': HTML }, body: renderListing(urlPath, entries, hasParent) };
}
