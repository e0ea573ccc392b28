/**
 * A whole site served at `/` from `--root`: every `GET` or `HEAD` that no
 * stage route answers is looked up in the root directory (files, a
 * folder's `index.html`, a 301 to the slash-ended folder URL, listings),
 * with the same safety, caching, ranges and coding as `/files/`.
 * Stage routes (`/echo/`, `/user-agent`, `/files/`) keep precedence.
 */

import type { RequestHandler } from '../http/router.js';
import type { ListingCache } from './directory-listing.js';
import type { FileCache } from './file-cache.js';
import { servedDirectory } from './served-directory.js';

/**
 * The router's fallback with a site root.
 * @param root the directory served at `/`.
 * @param dotfiles serve and list names starting with `.`.
 * @param otherwise answers every other method (the 404 stage).
 * @param cache the open-file cache shared with `/files/`.
 * @param listings the listing cache shared with `/files/`.
 */
export function staticSite(root: string, dotfiles: boolean, otherwise: RequestHandler, cache: FileCache, listings: ListingCache): RequestHandler {
  const site = servedDirectory({ directory: root, prefix: '/', dotfiles, cache, listings });
  return (req) => (req.method === 'GET' || req.method === 'HEAD' ? site(req) : otherwise(req));
}
