/**
 * A directory served under a URL prefix, for `GET` and `HEAD`: `/files/`
 * over `--directory`, and `/` over `--root`. Maps the request path to a
 * file safely, then answers with the file, a directory's `index.html`, a
 * redirect to the directory's slash-ended URL, or a listing.
 *
 * Path safety: the path is percent-decoded once, segment by segment; `.`
 * and `..` segments, and a decoded `/`, `\` or NUL inside a segment, are
 * 404 (a malformed encoding is 400); dotfiles are 404 unless allowed, and
 * an upload's temporary file always is (it is not a finished file); and
 * the resolved real path (symlinks followed) must lie inside the served
 * directory, else 404. Nothing outside the directory is read or listed.
 */

import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { decodePathSegments } from '../http/path.js';
import type { Request } from '../http/request.js';
import type { Response } from '../http/response.js';
import type { RequestHandler } from '../http/router.js';
import { listingResponse } from './directory-listing.js';
import { fileResponse } from './static-file.js';
import { isPartialUpload } from './uploads.js';

/** How a directory is served. */
export interface ServedDirectoryOptions {
  /** The directory on disk; must exist. */
  readonly directory: string;
  /** The URL path it is served under, starting and ending with `/`, e.g. `/files/`. */
  readonly prefix: string;
  /** Serve and list names starting with `.` (`--dotfiles`). */
  readonly dotfiles: boolean;
}

const NOT_FOUND: Response = { status: 404 };

/**
 * The `GET`/`HEAD` handler of a served directory (see the module comment).
 * @returns a handler answering 200/206/304/406/412/416 for files, 301 for a
 *   directory path without its trailing slash, 200 listings, 404 otherwise.
 *   It throws HttpError 400 on a malformed percent-encoding.
 */
export function servedDirectory(options: ServedDirectoryOptions): RequestHandler {
  const root = realpathSync(options.directory);
  const rootWithSep = root.endsWith(path.sep) ? root : root + path.sep;
  const isInside = (p: string) => p === root || p.startsWith(rootWithSep);
  const { prefix, dotfiles } = options;
  const isHidden = (name: string) => (!dotfiles && name.startsWith('.')) || isPartialUpload(name);

  /** The real path of `p` if it exists inside the served directory, else null. */
  const resolveInside = async (p: string): Promise<string | null> => {
    try {
      const real = await realpath(p);
      return isInside(real) ? real : null;
    } catch {
      return null;
    }
  };

  const serveDirectory = async (req: Request, dir: string, segments: string[]): Promise<Response> => {
    const index = await resolveInside(path.join(dir, 'index.html'));
    if (index !== null) {
      const st = await stat(index).catch(() => null);
      if (st?.isFile()) return fileResponse(req, index, st, 'index.html');
    }
    const urlPath = prefix + segments.map((s) => `${s}/`).join('');
    return listingResponse(req, dir, urlPath, segments.length > 0, { isHidden, isInside });
  };

  return async (req: Request): Promise<Response> => {
    const rest = req.path.slice(prefix.length);
    const segments = decodePathSegments(rest);
    if (segments === null) return NOT_FOUND;
    if (segments.some(isHidden)) return NOT_FOUND;
    const real = await resolveInside(path.join(root, ...segments));
    if (real === null) return NOT_FOUND;
    const st = await stat(real).catch(() => null);
    if (st === null) return NOT_FOUND;
    const slashEnded = rest === '' || rest.endsWith('/');
    if (st.isDirectory()) {
      if (!slashEnded) {
        // Relative links in the page resolve against the slash-ended URL (RFC 9110 §15.4.2).
        return { status: 301, headers: { Location: `${req.path}/${req.query === '' ? '' : `?${req.query}`}` } };
      }
      return serveDirectory(req, real, segments);
    }
    if (!st.isFile() || slashEnded) return NOT_FOUND;
    return fileResponse(req, real, st, segments[segments.length - 1]!);
  };
}
