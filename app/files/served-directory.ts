/**
 * A directory served under a URL prefix, for `GET` and `HEAD`: `/files/`
 * over `--directory`, and `/` over `--root`. Maps the request path to a
 * file safely, then answers with the file, a directory's `index.html`, a
 * redirect to the directory's slash-ended URL, a listing, or the folder as
 * a zip or tar archive (`<folder>/?zip`, `?tar`: `archive.ts`).
 *
 * Path safety: the path is percent-decoded once, segment by segment; `.`
 * and `..` segments, and a decoded `/`, `\` or NUL inside a segment, are
 * 404 (a malformed encoding is 400); dotfiles are 404 unless allowed, and
 * an upload's temporary file always is (it is not a finished file). The
 * file is opened first and checked on what was opened: its real path must
 * lie inside the served directory, else 404. Nothing outside the directory
 * is read or listed.
 *
 * A request first asks the {@link FileCache}: a fresh entry is answered
 * without a thread-pool round trip (and synchronously when its bytes are in
 * memory). Otherwise the file is opened, checked, read or streamed from that
 * descriptor, and its entry kept when the cache may keep it.
 */

import { fstat, open, realpathSync } from 'node:fs';
import path from 'node:path';
import { decodePathSegments } from '../http/path.js';
import type { Request } from '../http/request.js';
import type { Response } from '../http/response.js';
import type { RequestHandler } from '../http/router.js';
import { archiveFormat, archiveResponse, archiveTopName } from './archive.js';
import { type ListingCache, listingResponse } from './directory-listing.js';
import { type FileCache, type FileEntry, sameVersion } from './file-cache.js';
import { type OpenedFile, closeFd, isInside, openInside } from './open-file.js';
import { StaleEntry, fileResponse, loadFile } from './static-file.js';
import { isPartialUpload } from './uploads.js';

/** How a directory is served. */
export interface ServedDirectoryOptions {
  /** The directory on disk; must exist. */
  readonly directory: string;
  /** The URL path it is served under, starting and ending with `/`, e.g. `/files/`. */
  readonly prefix: string;
  /** Serve and list names starting with `.` (`--dotfiles`). */
  readonly dotfiles: boolean;
  /** The open-file cache, shared by every served directory. */
  readonly cache: FileCache;
  /** The listing cache, shared by every served directory. */
  readonly listings: ListingCache;
  /** Writes are accepted here: listings embed the file manager script. Default false (the `--root` site). */
  readonly writable?: boolean;
  /** How clients reach the server (`https` with TLS), for the listing's QR code; default `http`. */
  readonly scheme?: 'http' | 'https';
}

const NOT_FOUND: Response = Object.freeze({ status: 404 });
const FORBIDDEN: Response = Object.freeze({ status: 403 });

/** Distinguishes the cache keys of the served directories of one process. */
let nextId = 0;

/**
 * The descriptor of exactly the version `e` describes, for an entry whose
 * bytes are not in memory; `null` when the file changed since.
 */
function openVersion(e: FileEntry): Promise<number | null> {
  return new Promise((resolve) => {
    open(e.file, 'r', (err, fd) => {
      if (err) return resolve(null);
      fstat(fd, (err2, st) => {
        if (!err2 && st.isFile() && sameVersion(st, e.identity)) return resolve(fd);
        closeFd(fd);
        resolve(null);
      });
    });
  });
}

/** `Location` of the slash-ended URL of a folder: its decoded segments re-encoded, so it always starts with exactly one `/`. */
function folderLocation(prefix: string, segments: readonly string[], query: string): string {
  return `${prefix}${segments.map((s) => `${encodeURIComponent(s)}/`).join('')}${query === '' ? '' : `?${query}`}`;
}

/**
 * The `GET`/`HEAD` handler of a served directory (see the module comment).
 * @returns a handler answering 200/206/304/406/412/416 for files, 301 for a
 *   directory path without its trailing slash, 200 listings, 403 when the
 *   file system refuses, 404 otherwise. It throws HttpError 400 on a
 *   malformed percent-encoding.
 */
export function servedDirectory(options: ServedDirectoryOptions): RequestHandler {
  const root = realpathSync(options.directory);
  const inside = (p: string) => isInside(root, p);
  const { prefix, dotfiles, cache, listings } = options;
  const writable = options.writable === true;
  const keyPrefix = `${nextId++}:`;
  const isHidden = (name: string) => (!dotfiles && name.startsWith('.')) || isPartialUpload(name);

  /** Answers from a cached entry, or `undefined` when there is none fresh. */
  const fromCache = (req: Request, key: string): Response | Promise<Response> | undefined => {
    const e = cache.get(key);
    if (e === undefined) return undefined;
    if (req.fields.has('accept-encoding') && !cache.siblingsFresh(e)) {
      cache.delete(e);
      return undefined;
    }
    if (e.content !== null) return fileResponse(req, e, cache, null);
    return openVersion(e).then((fd) => {
      if (fd !== null) return fileResponse(req, e, cache, fd);
      cache.delete(e);
      return lookUp(req, key);
    });
  };

  /** The folders below the served directory named by the first `n` segments, outermost first. */
  const foldersOf = (segments: readonly string[], n: number) => segments.slice(0, n).map((_, i) => path.join(root, ...segments.slice(0, i + 1)));

  /**
   * Answers with an opened regular file (ownership of the descriptor passes
   * here) and keeps its entry when the path has no symlink and the file is settled.
   */
  const serveOpened = async (req: Request, key: string, opened: OpenedFile, full: string, name: string, folders: readonly string[]): Promise<Response> => {
    const loaded = await loadFile(key, opened, name, folders, cache);
    // A path through a symlink is checked anew on every request, never cached.
    if (loaded.settled && opened.real === full) cache.set(loaded.entry);
    return fileResponse(req, loaded.entry, cache, loaded.fd);
  };

  /** A folder's `index.html`, else its listing. */
  const serveFolder = async (req: Request, key: string, dir: string, segments: string[]): Promise<Response> => {
    const indexPath = path.join(root, ...segments, 'index.html');
    const index = await openInside(indexPath, inside);
    if (index !== null) {
      if (index.stats.isFile()) return serveOpened(req, key, index, indexPath, 'index.html', foldersOf(segments, segments.length));
      closeFd(index.fd);
    }
    return listingResponse(req, { dir, prefix, segments, policy: { isHidden, isInside: inside }, writable, scheme: options.scheme }, listings);
  };

  /** The full lookup: decode, open, check, answer (and fill the cache). */
  const lookUp = async (req: Request, key: string, retried = false): Promise<Response> => {
    const rest = req.path.slice(prefix.length);
    const segments = decodePathSegments(rest);
    if (segments === null || segments.some(isHidden)) return NOT_FOUND;
    const full = path.join(root, ...segments);
    const slashEnded = rest === '' || rest.endsWith('/');
    try {
      const opened = await openInside(full, inside);
      if (opened === null) return NOT_FOUND;
      if (opened.stats.isFile() && !slashEnded) {
        return await serveOpened(req, key, opened, full, segments[segments.length - 1]!, foldersOf(segments, segments.length - 1));
      }
      closeFd(opened.fd);
      if (!opened.stats.isDirectory()) return NOT_FOUND; // a file named with a trailing slash, or not a file at all
      // Relative links in the page resolve against the slash-ended URL (RFC 9110 §15.4.2).
      if (!slashEnded) return { status: 301, headers: { Location: folderLocation(prefix, segments, req.query) } };
      // Issue 10: `<folder>/?zip`, `<folder>/?tar` download the folder (app/files/archive.ts).
      const format = archiveFormat(req.query);
      if (format !== null) return archiveResponse(format, opened.real, archiveTopName(root, segments), { isHidden, isInside: inside });
      return await serveFolder(req, key, opened.real, segments);
    } catch (e) {
      if (e instanceof StaleEntry && !retried) return lookUp(req, key, true);
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') return FORBIDDEN;
      throw e;
    }
  };

  return (req: Request): Response | Promise<Response> => {
    const key = keyPrefix + req.path;
    // The cache knows files by path alone: a folder's archive must not be answered with its cached index.html.
    if (cache.enabled && archiveFormat(req.query) === null) {
      const hit = fromCache(req, key);
      if (hit !== undefined) {
        return hit instanceof Promise ? hit.catch((e: unknown) => (e instanceof StaleEntry ? lookUp(req, key, true) : Promise.reject(e))) : hit;
      }
    }
    return lookUp(req, key);
  };
}
