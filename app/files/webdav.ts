/**
 * Folders, moving and deleting under `/files/` with three methods of
 * WebDAV (RFC 4918), so that curl and the file-manager page can manage the
 * served directory: `MKCOL` (§9.3, `mkcol.ts`), `MOVE` (§9.9, `move.ts`)
 * and `DELETE` of folders (§9.6, `delete-folder.ts`; files stay with
 * `uploads.ts`). This module composes them;
 * `webdav-common.ts` holds what they share.
 *
 * Not a WebDAV server: there is no `PROPFIND`, `COPY`, `LOCK`, so no
 * `DAV` header is sent and no compliance class is claimed.
 *
 * Shared rules, the same as for uploads: a request's name is decoded once
 * (`decodePathSegments`); dot-names are 404 unless `--dotfiles`; an
 * upload's temporary or lock name never matches; every folder on the way
 * is resolved through symlinks and must stay inside the directory; each
 * change holds the name lock(s) uploads take ({@link exclusive}), so it
 * cannot interleave with an upload's check-and-rename of the same name.
 *
 * Caches need no telling: the file cache checks every hit by `lstat` of
 * each folder on the way and of the file, and the listing cache checks a
 * folder's identity (dev, ino, mtime, ctime) on every request; a rename,
 * `mkdir` or removal changes the folder's mtime and the path's `lstat`.
 */

import type { RequestHandler } from '../http/router.js';
import { deleteWithFolders } from './delete-folder.js';
import { mkcol } from './mkcol.js';
import { move } from './move.js';
import { type UploadOptions, placeOf } from './uploads.js';

/** Options of {@link webdavHandlers}. */
export interface WebdavOptions extends UploadOptions {
  /**
   * The URI scheme clients reach this server by (`http`, or `https` behind
   * TLS): a `Destination` with another scheme is on another server (502).
   */
  readonly scheme?: 'http' | 'https';
}

/** The handlers {@link webdavHandlers} returns, one per method. */
export interface WebdavHandlers {
  readonly MKCOL: RequestHandler;
  readonly MOVE: RequestHandler;
  readonly DELETE: RequestHandler;
}

/**
 * `MKCOL`, `MOVE`, and a `DELETE` that also removes folders, over
 * `directory` served under `options.prefix` (default `/files/`).
 * @param deleteFile the `DELETE` of files (`uploadHandlers(...).DELETE`),
 *   called for every target that is not a folder.
 */
export function webdavHandlers(directory: string, options: WebdavOptions, deleteFile: RequestHandler): WebdavHandlers {
  const place = placeOf(directory, options);
  const scheme = options.scheme ?? 'http';
  return {
    MKCOL: (req) => mkcol(place, req),
    MOVE: (req) => move(place, req, scheme),
    DELETE: deleteWithFolders(place, deleteFile),
  };
}
