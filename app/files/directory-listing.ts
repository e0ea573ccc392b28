/**
 * What a folder without an `index.html` answers to `GET`/`HEAD`: its
 * listing as an HTML page (`listing-page.ts`) or as JSON (`listing-json.ts`,
 * for `?json` or an `Accept` that prefers it), in the order asked for
 * (`?sort=name|size|mtime&order=asc|desc`), a page at a time (`?page=N`);
 * or, for `?q=TERM`, a search of the names below it (`search.ts`); or, for
 * `?qr`, a QR code of its network URL (`ops/qr.ts`). The rows
 * come from the {@link ListingCache} (`listing-cache.ts`), which keeps the
 * rendered bytes and their coded variants.
 *
 * Listings are negotiated here, not by the compression filter: the content
 * coding (RFC 9110 §12.5.3; gzip, br, deflate coded off the event loop) and
 * the media type (§12.5.1), hence `Vary: Accept, Accept-Encoding`. Each
 * carries a weak `ETag` (a digest of the bytes, per coding) and answers
 * `If-None-Match` with 304 (§13.1.2). HTML pages carry their own
 * `Content-Security-Policy` (`listingCsp`), on 304 too, so that a
 * revalidated page keeps the policy its inline script needs.
 */

import { SUPPORTED_CODINGS } from '../http/codecs.js';
import { etagListMatches } from '../http/conditional.js';
import { negotiateContentCoding, notAcceptableResponse } from '../http/content-coding.js';
import type { Request } from '../http/request.js';
import type { HeaderFields, Response } from '../http/response.js';
import { lanUrl, qrSvg } from '../ops/qr.js';
import { DEFAULT_ORDER, FolderChanged, ListingCache, type ListingOrder, type ListingPolicy, type ListingView, type SortField } from './listing-cache.js';
import { JSON_TYPE, prefersJson, renderListingJson, renderSearchJson } from './listing-json.js';
import { type PageModel, encodedFolderPath, listingCsp, renderListingPage, renderSearchPage } from './listing-page.js';
import { SearchBusy, searchNames } from './search.js';

export { ListingCache, type ListingCacheOptions, type ListingEntry, type ListingPolicy } from './listing-cache.js';
export { escapeHtml, formatSize } from './listing-page.js';

/** The folder a listing is asked of. */
export interface ListedFolder {
  /** Its real path, inside the served directory. */
  readonly dir: string;
  /** The URL path the served directory is under: `/files/` or `/`. */
  readonly prefix: string;
  /** Its path below the prefix, decoded segments (none: the top, which has no parent link). */
  readonly segments: readonly string[];
  /** Which entries may be shown. */
  readonly policy: ListingPolicy;
  /** The server accepts writes here: the page embeds the file manager script. */
  readonly writable: boolean;
  /** How clients reach the server, for the QR code's URL; `http` when not given. */
  readonly scheme?: 'http' | 'https';
}

/** What a listing's query component asks for. */
export interface ListingQuery {
  /** 1-based page (`page`; 1 when absent). */
  readonly page: number;
  readonly order: ListingOrder;
  /** `json` is present. */
  readonly json: boolean;
  /** The search term (`q`), decoded; `''` when absent or empty (then no search). */
  readonly q: string;
  /** `qr` is present: the QR code of the folder's network URL is asked for. */
  readonly qr: boolean;
}

const HTML = 'text/html; charset=utf-8';
const VARY = 'Accept, Accept-Encoding';
const SORTS: ReadonlySet<string> = new Set(['name', 'size', 'mtime']);

/** Decodes a form-urlencoded value (`+` is a space); `null` when the percent-encoding is malformed. */
function formDecode(s: string): string | null {
  try {
    return decodeURIComponent(s.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/**
 * Parses a listing's query component (`page`, `sort`, `order`, `json`,
 * `q`, `qr`); other parameters are ignored.
 * @returns the query; 404 when `page` is not a page number (1 to 999,999,999);
 *   400 when `sort` or `order` is not one of its values or a value's
 *   percent-encoding is malformed.
 */
export function parseListingQuery(query: string): ListingQuery | 400 | 404 {
  if (query === '') return { page: 1, order: DEFAULT_ORDER, json: false, q: '', qr: false };
  let page = 1;
  let sort: string | undefined;
  let order: string | undefined;
  let json = false;
  let qr = false;
  let q = '';
  const seen = new Set<string>();
  for (const param of query.split('&')) {
    const eq = param.indexOf('=');
    const name = eq === -1 ? param : param.slice(0, eq);
    const raw = eq === -1 ? '' : param.slice(eq + 1);
    if (seen.has(name)) continue; // the first of a repeated parameter counts
    seen.add(name);
    if (name === 'page') {
      if (!/^[1-9][0-9]{0,8}$/.test(raw)) return 404;
      page = Number(raw);
    } else if (name === 'json') json = true;
    else if (name === 'qr') qr = true;
    else if (name === 'sort' || name === 'order' || name === 'q') {
      const value = formDecode(raw);
      if (value === null) return 400;
      if (name === 'sort') sort = value;
      else if (name === 'order') order = value;
      else q = value;
    }
  }
  if (sort !== undefined && !SORTS.has(sort)) return 400;
  if (order !== undefined && order !== 'asc' && order !== 'desc') return 400;
  return { page, order: sort === undefined && order === undefined ? DEFAULT_ORDER : { sort: (sort ?? 'name') as SortField, descending: order === 'desc' }, json, q, qr };
}

function statusOf(e: unknown): number {
  if (e instanceof FolderChanged || e instanceof SearchBusy) return 503;
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'EACCES' || code === 'EPERM') return 403;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 404;
  throw e;
}

function failure(e: unknown): Response {
  const status = statusOf(e);
  return status === 503 ? { status, headers: { 'Retry-After': '1' } } : { status };
}

function pageModel(folder: ListedFolder, qr: boolean): PageModel {
  return { prefix: folder.prefix, segments: folder.segments, writable: folder.writable, qr };
}

/**
 * Answers `?qr`: a QR code (SVG) of the URL another machine on the network
 * can open for the folder (`ops/qr.ts` lanUrl); 404 when there is none, or
 * it is too long for a QR code.
 */
function qrResponse(req: Request, encodedPath: string, scheme: 'http' | 'https'): Response {
  const url = lanUrl(req.fields.get('host'), encodedPath, undefined, scheme);
  let svg: string;
  try {
    if (url === undefined) return { status: 404 };
    svg = qrSvg(url);
  } catch {
    return { status: 404 };
  }
  // no-cache: the machine's address may change (a new DHCP lease).
  return { status: 200, headers: { 'Content-Type': 'image/svg+xml', 'Cache-Control': 'no-cache', 'Content-Security-Policy': "default-src 'none'" }, body: svg };
}

/** Answers `?q=TERM`: a search below the folder, never cached (the compression filter codes it). */
async function searchResponse(folder: ListedFolder, encodedPath: string, q: string, json: boolean): Promise<Response> {
  let result;
  try {
    result = await searchNames(folder.dir, q, folder.policy);
  } catch (e) {
    return failure(e);
  }
  if (json) return { status: 200, headers: { 'Content-Type': JSON_TYPE, Vary: 'Accept' }, body: renderSearchJson(encodedPath, q, result) };
  const model = pageModel(folder, false);
  return {
    status: 200,
    headers: { 'Content-Type': HTML, Vary: 'Accept', 'Content-Security-Policy': listingCsp(false) },
    body: renderSearchPage(model, q, result),
  };
}

/**
 * Answers `GET`/`HEAD` for a folder that has no `index.html` (see the
 * module comment). `HEAD` gets the same head.
 * @param req the request; its query may ask for a page, an order, JSON or a search.
 * @param folder the folder and how it is served.
 * @param cache where listings are kept (the shared default otherwise).
 * @returns 200 with the HTML page or JSON; 304; 400 for a malformed query;
 *   403 when the folder cannot be read; 404 when it is gone or the page
 *   does not exist; 406 when no acceptable coding remains; 412 for a failed
 *   `If-Match`; 503 (`Retry-After: 1`) when the folder keeps changing under
 *   the read or too many searches run.
 */
export async function listingResponse(req: Request, folder: ListedFolder, cache: ListingCache = defaultListingCache): Promise<Response> {
  const query = parseListingQuery(req.query);
  if (query === 400 || query === 404) return { status: query };
  const json = query.json || prefersJson(req.fields.get('accept'));
  const encodedPath = encodedFolderPath(folder.prefix, folder.segments);
  if (query.q !== '') return searchResponse(folder, encodedPath, query.q, json);
  if (query.qr) return qrResponse(req, encodedPath, folder.scheme ?? 'http');
  const coding = negotiateContentCoding(req.fields.get('accept-encoding'), SUPPORTED_CODINGS);
  if (coding === null) return notAcceptableResponse(SUPPORTED_CODINGS);

  let view: ListingView;
  if (json) {
    view = { key: 'json', order: query.order, page: 0, render: (rows) => renderListingJson(encodedPath, rows) };
  } else {
    // Whether a QR code can be offered: two values, so Host cannot multiply the pages kept.
    const qr = lanUrl(req.fields.get('host'), encodedPath) !== undefined;
    view = {
      key: `html|${folder.writable}|${qr}`,
      order: query.order,
      page: query.page,
      render: (rows, paging) => renderListingPage(pageModel(folder, qr), query.order, rows, paging),
    };
  }
  const folderKey = `${folder.segments.length > 0 ? 1 : 0}${encodedPath}\0${folder.dir}`;
  let cached;
  try {
    cached = await cache.view(folder.dir, folderKey, folder.policy, view);
  } catch (e) {
    return failure(e);
  }
  if (cached === undefined) return { status: 404 }; // past the last page

  const etag = `W/"${cached.tag}${coding === 'identity' ? '' : `-${coding}`}"`;
  const headers: HeaderFields = { 'Content-Type': json ? JSON_TYPE : HTML, Vary: VARY, ETag: etag };
  if (!json) headers['Content-Security-Policy'] = listingCsp(folder.writable);
  const ifMatch = req.fields.get('if-match');
  // A weak tag never matches strongly (RFC 9110 §13.1.1): only `*` passes.
  if (ifMatch !== undefined && !etagListMatches(ifMatch, etag, false)) return { status: 412, codingNegotiated: true };
  const ifNoneMatch = req.fields.get('if-none-match');
  if (ifNoneMatch !== undefined && etagListMatches(ifNoneMatch, etag, true)) {
    delete headers['Content-Type'];
    return { status: 304, headers, codingNegotiated: true };
  }
  if (coding === 'identity') return { status: 200, headers, body: cached.body, codingNegotiated: true };
  headers['Content-Encoding'] = coding;
  return { status: 200, headers, body: await cache.coded(cached, coding), codingNegotiated: true };
}

/** The cache {@link listingResponse} uses unless given another. */
export const defaultListingCache = new ListingCache();
