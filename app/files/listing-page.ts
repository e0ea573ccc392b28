/**
 * The HTML of a folder's listing and of a search below it: names (escaped),
 * sizes, modification times, folders first, sortable columns, pages, a
 * breadcrumb, a search form and a QR code of the page's network URL; laid out to
 * read well on a desktop and on a phone, in light or dark, and working
 * without JavaScript. Where the server accepts writes, the file manager
 * script (`page/`) enhances the page; it finds its data in the markup:
 * `body[data-writable][data-path]`, `div#file-manager`, and on each entry
 * row `data-name`, `data-type` (`file`|`directory`), `data-size` (bytes;
 * empty for a folder) and `data-mtime` (ms since the epoch).
 *
 * The page runs under a strict Content-Security-Policy ({@link listingCsp}):
 * the one inline style and the one inline script are allowed by their
 * hashes, so the markup has no `style` attribute and no event handler.
 */

import { createHash } from 'node:crypto';
import * as pageScript from './page/script.js';
import type { ListingEntry, ListingOrder, ListingPaging, SortField } from './listing-cache.js';

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

/** `1234` → `"1,234"`, the same on every host (no locale data needed). */
function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

const BASE_STYLE = `
:root{color-scheme:light dark;--fg:#1d2126;--muted:#5f6b78;--line:#e3e7ec;--link:#0b57d0;--bg:#fff;--hover:#f3f6fa}
@media (prefers-color-scheme:dark){:root{--fg:#e6e9ed;--muted:#9aa5b1;--line:#2c333b;--link:#8ab4f8;--bg:#16191d;--hover:#1f242a}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:960px;margin:0 auto;padding:16px}
h1{font-size:1.25rem;font-weight:600;margin:8px 0 16px;overflow-wrap:anywhere}
h1 a{color:var(--link);text-decoration:none}
h1 a:hover{text-decoration:underline}
h1 a[aria-current]{color:inherit}
.vh{position:absolute;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
table{width:100%;border-collapse:collapse}
th{text-align:left;font-size:.8rem;font-weight:600;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;padding:6px 8px;border-bottom:2px solid var(--line)}
th a{color:inherit;text-decoration:none}
th a:hover{text-decoration:underline}
th[aria-sort] a{color:var(--fg)}
td{padding:10px 8px;border-bottom:1px solid var(--line);vertical-align:top}
tr:hover td{background:var(--hover)}
td.name{overflow-wrap:anywhere;width:100%}
td.name a{color:var(--link);text-decoration:none;display:block}
td.name a:hover{text-decoration:underline}
tr.dir td.name a{font-weight:600}
td.size,td.mtime,th.size,th.mtime{white-space:nowrap;color:var(--muted);font-variant-numeric:tabular-nums}
td.size,th.size{text-align:right}
footer{color:var(--muted);font-size:.85rem;margin-top:12px}
p.downloads{color:var(--muted);font-size:.85rem;margin:4px 0 0}
p.downloads a{color:var(--link)}
nav.pages{display:flex;flex-wrap:wrap;align-items:center;gap:8px 16px;margin:12px 0;font-size:.9rem}
nav.pages a{color:var(--link)}
nav.pages form{display:flex;gap:6px;align-items:center;margin:0}
nav.pages input{width:6em;font:inherit}
form.search{display:flex;gap:6px;margin:0 0 12px;max-width:28rem}
form.search input{flex:1;min-width:0;font:inherit;padding:4px 8px}
form.search button,nav.pages button{font:inherit}
#file-manager:empty{display:none}
#file-manager{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin:0 0 12px}
label.filter{display:flex;gap:6px;align-items:center;margin:0 0 8px;color:var(--muted);font-size:.9rem}
label.filter input{font:inherit;padding:4px 8px}
p.note{color:var(--muted);margin:0 0 12px}
p.note a{color:var(--link)}
details.qr{margin-top:16px;color:var(--muted);font-size:.9rem}
details.qr summary{cursor:pointer}
details.qr img{display:block;width:12rem;height:12rem;margin:8px 0;background:#fff}
@media (max-width:560px){main{padding:12px 8px}td{padding:12px 6px}.time{display:none}th.mtime,td.mtime{font-size:.85rem}}
`;

/**
 * The page's style sheet, UTF-8 text between `<style>` and `</style>`: ours,
 * then the file manager's own rules when its module offers them
 * (`FILE_MANAGER_STYLE`), so one hash allows both.
 */
export const STYLE = BASE_STYLE + String((pageScript as Record<string, unknown>).FILE_MANAGER_STYLE ?? '');

/** `'sha256-<base64>'` of {@link STYLE}: its hash source for `style-src` (CSP Level 3 §8.4). */
export const STYLE_HASH = `'sha256-${createHash('sha256').update(STYLE, 'utf8').digest('base64')}'`;

const CSP_TAIL = "img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const CSP_WITHOUT_SCRIPT = `default-src 'none'; style-src ${STYLE_HASH}; ${CSP_TAIL}`;
const CSP_WITH_SCRIPT = `default-src 'none'; style-src ${STYLE_HASH}; script-src ${pageScript.FILE_MANAGER_SCRIPT_HASH}; ${CSP_TAIL}`;

/**
 * The `Content-Security-Policy` field value of a listing or search page:
 * nothing may load or run but the page's own style, its own script when it
 * has one (both by hash), images from the server or `data:`, and requests
 * and forms to the server; no `<base>`, no framing.
 * @param withScript whether the page embeds the file manager script.
 */
export function listingCsp(withScript: boolean): string {
  return withScript ? CSP_WITH_SCRIPT : CSP_WITHOUT_SCRIPT;
}

/** What a listing or search page shows besides its rows. */
export interface PageModel {
  /** The URL path the directory is served under: `/files/` or `/`. */
  readonly prefix: string;
  /** The folder's path below the prefix, decoded segments. */
  readonly segments: readonly string[];
  /** The server accepts writes here: the page embeds the file manager script. */
  readonly writable: boolean;
  /** Offer a QR code of the page's network address (`?qr`, an SVG image). */
  readonly qr?: boolean;
}

/** The folder's URL path, percent-encoded, slash-ended: `/files/a%20b/`. */
export function encodedFolderPath(prefix: string, segments: readonly string[]): string {
  let p = prefix;
  for (const s of segments) p += `${encodeURIComponent(s)}/`;
  return p;
}

/** The page's title: `Index of /files/a b/`. */
function title(m: PageModel): string {
  return `Index of ${escapeHtml(m.prefix + m.segments.map((s) => `${s}/`).join(''))}`;
}

/** The `<h1>`: "Index of" for screen readers, then a link per folder from the prefix down (relative, so a proxy's path prefix keeps working). */
function breadcrumb(m: PageModel, currentIsLink = false): string {
  const n = m.segments.length;
  const href = (up: number) => (up === 0 ? './' : '../'.repeat(up));
  const crumb = (label: string, up: number) =>
    up === 0 && !currentIsLink ? `<a href="./" aria-current="page">${label}</a>` : `<a href="${href(up)}">${label}</a>`;
  let h = `<h1><span class="vh">Index of </span>${crumb(escapeHtml(m.prefix), n)}`;
  for (let i = 0; i < n; i++) h += crumb(`${escapeHtml(m.segments[i]!)}/`, n - 1 - i);
  return `${h}</h1>`;
}

function head(m: PageModel, titleText: string): string {
  return (
    `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
    `<meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,"><title>${titleText}</title><style>${STYLE}</style></head>` +
    `<body data-writable="${m.writable}" data-path="${escapeHtml(encodedFolderPath(m.prefix, m.segments))}"><main>`
  );
}

/**
 * The QR code, as an image of `?qr` (loaded only once the details are
 * opened): the code depends on the `Host` a client used, and the page must
 * not, or every `Host` value would make (and cache) a page of its own.
 */
function qrDetails(m: PageModel): string {
  if (m.qr !== true) return '';
  return `<details class="qr"><summary>QR code</summary><img src="?qr" alt="QR code of this folder's address on the network" width="192" height="192" loading="lazy"></details>`;
}

function tail(m: PageModel, withScript: boolean): string {
  return `${qrDetails(m)}</main>${withScript ? `<script>${pageScript.FILE_MANAGER_SCRIPT}</script>` : ''}</body></html>\n`;
}

function searchForm(value = ''): string {
  return (
    `<form method="get" class="search" role="search"><input type="search" name="q" value="${escapeHtml(value)}" ` +
    `placeholder="Search names" aria-label="Search names in this folder and below"><button type="submit">Search</button></form>`
  );
}

/** Size and time cells of a row. */
function cells(e: { readonly isDirectory: boolean; readonly size: number; readonly mtimeMs: number }): string {
  const iso = new Date(e.mtimeMs).toISOString();
  const size = e.isDirectory ? '—' : `<span title="${e.size} bytes">${formatSize(e.size)}</span>`;
  return `<td class="size">${size}</td><td class="mtime"><time datetime="${iso}">${iso.slice(0, 10)}<span class="time"> ${iso.slice(11, 16)}</span></time></td>`;
}

function row(e: ListingEntry): string {
  const href = encodeURIComponent(e.name) + (e.isDirectory ? '/' : '');
  const name = escapeHtml(e.name);
  const type = e.isDirectory ? 'directory' : 'file';
  return (
    `<tr class="${e.isDirectory ? 'dir' : 'file'}" data-name="${name}" data-type="${type}" data-size="${e.isDirectory ? '' : e.size}" data-mtime="${Math.round(e.mtimeMs)}">` +
    `<td class="name"><a href="${href}">${name}${e.isDirectory ? '/' : ''}</a></td>${cells(e)}</tr>`
  );
}

/** `sort=size&order=desc`, or `''` for the default order. */
export function orderQuery(o: ListingOrder): string {
  return o.sort === 'name' && !o.descending ? '' : `sort=${o.sort}&order=${o.descending ? 'desc' : 'asc'}`;
}

/** The link to page `n` in order `o` (page 1 of the default order is the folder's own URL), HTML-escaped. */
function pageHref(n: number, o: ListingOrder): string {
  const q = orderQuery(o);
  if (n === 1) return q === '' ? './' : `?${q.replace('&', '&amp;')}`;
  return q === '' ? `?page=${n}` : `?${q.replace('&', '&amp;')}&amp;page=${n}`;
}

/** Previous/next links and a page form that works without script (keeping the order). */
function pageNav(p: ListingPaging, o: ListingOrder): string {
  const prev = p.page > 1 ? `<a href="${pageHref(p.page - 1, o)}" rel="prev">← Previous</a>` : '';
  const next = p.page < p.pageCount ? `<a href="${pageHref(p.page + 1, o)}" rel="next">Next →</a>` : '';
  const keep = orderQuery(o) === '' ? '' : `<input type="hidden" name="sort" value="${o.sort}"><input type="hidden" name="order" value="${o.descending ? 'desc' : 'asc'}">`;
  return (
    `<nav class="pages">${prev}<span>Page ${p.page} of ${p.pageCount}</span>${next}` +
    `<form method="get">${keep}<label>Page <input type="number" name="page" min="1" max="${p.pageCount}" value="${p.page}"></label><button type="submit">Go</button></form></nav>`
  );
}

const COLUMNS: ReadonlyArray<[SortField, string, string]> = [
  ['name', 'name', 'Name'],
  ['size', 'size', 'Size'],
  ['mtime', 'mtime', 'Modified (UTC)'],
];

/** Column headers; each a link to sort by it (ascending first; the current column's link flips the order). */
function sortableHeader(o: ListingOrder): string {
  let h = '<thead><tr>';
  for (const [field, cls, label] of COLUMNS) {
    const current = o.sort === field;
    const next: ListingOrder = { sort: field, descending: current && !o.descending };
    const q = orderQuery(next);
    const href = q === '' ? './' : `?${q.replace('&', '&amp;')}`;
    const sort = current ? ` aria-sort="${o.descending ? 'descending' : 'ascending'}"` : '';
    const mark = current ? (o.descending ? ' ▼' : ' ▲') : '';
    h += `<th class="${cls}"${sort}><a href="${href}">${label}${mark}</a></th>`;
  }
  return `${h}</tr></thead>`;
}

/**
 * One page of a folder's listing.
 * @param m the folder and what the page offers.
 * @param order the rows' order (kept by the column, page and form links).
 * @param rows the page's rows, already ordered.
 * @param paging where the page sits in the whole listing.
 * @returns a complete HTML document, UTF-8 text.
 */
export function renderListingPage(m: PageModel, order: ListingOrder, rows: readonly ListingEntry[], paging: ListingPaging): string {
  const p = paging;
  const parent =
    m.segments.length > 0
      ? '<tr class="dir parent"><td class="name"><a href="../">../ <small>(parent folder)</small></a></td><td class="size"></td><td class="mtime"></td></tr>'
      : '';
  const files = p.total - p.folders;
  const nav = p.pageCount > 1 ? pageNav(p, order) : '';
  const range = p.pageCount > 1 ? `; entries ${count(p.first + 1)}–${count(p.first + rows.length)} shown` : '';
  let body = '';
  for (const e of rows) body += row(e);
  return (
    head(m, title(m)) +
    `${breadcrumb(m)}<div id="file-manager"></div>${searchForm()}${nav}<table>${sortableHeader(order)}<tbody>` +
    parent +
    body +
    `</tbody></table>${nav}<footer>${count(p.folders)} folder${p.folders === 1 ? '' : 's'}, ${count(files)} file${files === 1 ? '' : 's'}${range}</footer>` +
    '<p class="downloads">Download this folder as <a href="?zip" download>zip</a> or <a href="?tar" download>tar</a></p>' +
    tail(m, m.writable)
  );
}

/** One match of a search, relative to the folder searched. */
export interface SearchMatch {
  /** Path below the folder searched, decoded segments joined by `/`, e.g. `sub/x.txt`. */
  readonly path: string;
  readonly name: string;
  readonly isDirectory: boolean;
  /** Size in bytes (0 for folders). */
  readonly size: number;
  /** Modification time in ms since the epoch. */
  readonly mtimeMs: number;
}

/** A search's outcome. */
export interface SearchResult {
  readonly matches: readonly SearchMatch[];
  /** The search stopped early (too many matches, or out of time): there may be more. */
  readonly truncated: boolean;
}

function searchRow(e: SearchMatch): string {
  const href = e.path.split('/').map(encodeURIComponent).join('/') + (e.isDirectory ? '/' : '');
  return (
    `<tr class="${e.isDirectory ? 'dir' : 'file'}" data-type="${e.isDirectory ? 'directory' : 'file'}">` +
    `<td class="name"><a href="${href}">${escapeHtml(e.path)}${e.isDirectory ? '/' : ''}</a></td>${cells(e)}</tr>`
  );
}

/**
 * The page of a search's matches: each a link, relative to the folder,
 * with its path; a note when the search stopped early. It embeds no script
 * (it is a report, not the folder's file manager).
 * @param m the folder searched.
 * @param query the search term, as typed.
 * @param result the matches.
 * @returns a complete HTML document, UTF-8 text.
 */
export function renderSearchPage(m: PageModel, query: string, result: SearchResult): string {
  const n = result.matches.length;
  const q = escapeHtml(query);
  const note = result.truncated
    ? `<p class="note truncated">The search stopped early: these are the first ${count(n)} matches found; narrow the term to see others.</p>`
    : '';
  let rows = '';
  for (const e of result.matches) rows += searchRow(e);
  return (
    head({ ...m, writable: false }, `Search for “${q}” in ${title(m).slice('Index of '.length)}`) +
    `${breadcrumb(m, true)}${searchForm(query)}<p class="note">${count(n)} match${n === 1 ? '' : 'es'} for “${q}” below this folder. <a href="./">Back to the listing</a></p>${note}` +
    `<table><thead><tr><th class="name">Path</th><th class="size">Size</th><th class="mtime">Modified (UTC)</th></tr></thead><tbody>${rows}</tbody></table>` +
    tail(m, false)
  );
}
