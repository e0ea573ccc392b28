/**
 * The JSON forms of a listing and of a search, for scripts (the page's own
 * file manager, curl), and the negotiation that picks them:
 *
 *     GET /files/a%20b/?json   (or Accept: application/json)
 *     {"path":"/files/a%20b/","entries":[
 *       {"name":"x.txt","type":"file","size":12,"mtime":"2026-11-30T20:00:00.000Z","etag":"\"…\""},
 *       {"name":"sub","type":"directory","size":null,"mtime":"…","etag":null}]}
 *
 *     GET /files/a%20b/?q=x&json
 *     {"path":"/files/a%20b/","query":"x","entries":[
 *       {"path":"sub/x.txt","name":"x.txt","type":"file","size":12,"mtime":"…"}],"truncated":false}
 *
 * A listing lists the whole folder (no pages), in the order asked for
 * (`sort`, `order`; folders first); a file's `etag` is exactly the `ETag`
 * a `GET` of the file answers with (identity coding).
 */

import { fileValidators } from '../http/conditional.js';
import { splitList, trimOWS } from '../http/grammar.js';
import { type ListingEntry, SLICE_MS, yieldToEventLoop } from './listing-cache.js';
import type { SearchResult } from './listing-page.js';

/** The media type of the JSON forms. */
export const JSON_TYPE = 'application/json';

/**
 * Whether a request's `Accept` prefers JSON to HTML (RFC 9110 §12.5.1):
 * each type gets the weight of the most specific media range that matches
 * it (`type/subtype` over `type/*` over `*\/*`; parameters other than `q`
 * are ignored), and JSON wins only with a strictly higher weight. A
 * browser's `Accept` (`text/html,…,*\/*;q=0.8`) keeps HTML; so does a
 * missing or malformed field.
 * @param accept the `Accept` field value, or `undefined` when absent.
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined || !accept.includes('json') && !accept.includes('application/*')) return false;
  // Weight and specificity (3 exact, 2 type/*, 1 */*) of the best range so far, per type.
  let html = [0, 0];
  let json = [0, 0];
  for (const member of splitList(accept)) {
    const parts = member.split(';');
    const range = trimOWS(parts[0]!).toLowerCase();
    const slash = range.indexOf('/');
    if (slash <= 0 || slash === range.length - 1) continue;
    let q = 1;
    for (let i = 1; i < parts.length; i++) {
      const param = trimOWS(parts[i]!);
      if (param.slice(0, 2).toLowerCase() !== 'q=') continue;
      const v = param.slice(2);
      q = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/.test(v) ? Number(v) : -1;
    }
    if (q < 0) continue;
    const type = range.slice(0, slash);
    const sub = range.slice(slash + 1);
    const weigh = (t: string, s: string, best: number[]): number[] => {
      const spec = type === t && sub === s ? 3 : type === t && sub === '*' ? 2 : type === '*' && sub === '*' ? 1 : 0;
      return spec > best[1]! ? [q, spec] : spec === best[1]! && spec > 0 ? [Math.max(q, best[0]!), spec] : best;
    };
    html = weigh('text', 'html', html);
    json = weigh('application', 'json', json);
  }
  return json[0]! > html[0]!;
}

function typeOf(isDirectory: boolean): 'file' | 'directory' {
  return isDirectory ? 'directory' : 'file';
}

/**
 * A folder's listing as JSON (see the module comment), UTF-8 bytes, built
 * in slices that yield to the event loop and are joined as bytes (joining
 * the text of 30,000 rows, then encoding it, would hold the loop for tens
 * of ms).
 * @param encodedPath the folder's URL path, percent-encoded, slash-ended.
 * @param rows every row, in the order asked for.
 */
export async function renderListingJson(encodedPath: string, rows: readonly ListingEntry[]): Promise<Buffer> {
  const chunks: Buffer[] = [Buffer.from(`{"path":${JSON.stringify(encodedPath)},"entries":[`)];
  let slice: string[] = [];
  let deadline = performance.now() + SLICE_MS;
  for (let i = 0; i < rows.length; i++) {
    if ((i & 127) === 0 && i > 0) {
      chunks.push(Buffer.from(slice.join('')));
      slice = [];
      if (performance.now() > deadline) {
        await yieldToEventLoop();
        deadline = performance.now() + SLICE_MS;
      }
    }
    const e = rows[i]!;
    const entry = JSON.stringify({
      name: e.name,
      type: typeOf(e.isDirectory),
      size: e.isDirectory ? null : e.size,
      mtime: new Date(e.mtimeMs).toISOString(),
      etag: e.isDirectory ? null : fileValidators(e).etag,
    });
    slice.push(i === 0 ? entry : `,${entry}`);
  }
  chunks.push(Buffer.from(`${slice.join('')}]}\n`));
  return Buffer.concat(chunks);
}

/**
 * A search's matches as JSON text (see the module comment).
 * @param encodedPath the folder searched, its URL path percent-encoded and slash-ended.
 * @param query the search term, as given.
 */
export function renderSearchJson(encodedPath: string, query: string, result: SearchResult): string {
  const entries = result.matches.map((m) => ({
    path: m.path,
    name: m.name,
    type: typeOf(m.isDirectory),
    size: m.isDirectory ? null : m.size,
    mtime: new Date(m.mtimeMs).toISOString(),
  }));
  return `${JSON.stringify({ path: encodedPath, query, entries, truncated: result.truncated })}\n`;
}
