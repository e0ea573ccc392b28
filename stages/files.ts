/**
 * Stages ap6 "Return a file" and qv8 "Read request body", grown into a
 * file server: the `/files/` route over `--directory`.
 *
 * `GET`/`HEAD /files/{path}` serve files, nested folders included, with
 * validators, conditionals, ranges and content coding (see
 * {@link servedDirectory} and `static-file.ts`); a name without a known
 * extension is `application/octet-stream`, as stage ap6 requires. A folder
 * gets its `index.html` or a listing. `POST`, `PUT` and `DELETE` store and
 * remove files (`uploads.ts`); `MKCOL`, `MOVE` and `DELETE` of folders
 * manage folders (`webdav.ts`). Names are decoded once and may not leave
 * the directory.
 */

import type { Response } from '../app/http/response.js';
import type { Route } from '../app/http/router.js';
import { ListingCache } from '../app/files/directory-listing.js';
import { FileCache } from '../app/files/file-cache.js';
import { servedDirectory } from '../app/files/served-directory.js';
import { uploadHandlers } from '../app/files/uploads.js';
import { webdavHandlers } from '../app/files/webdav.js';

const PREFIX = '/files/';
const NOT_FOUND: Response = { status: 404 };

/** Options of {@link filesRoute}. */
export interface FilesOptions {
  /** Serve, list and accept names starting with `.` (`--dotfiles`). */
  readonly dotfiles?: boolean;
  /** Other processes of this server share the directory (`--workers` > 1): uploads lock names across processes. */
  readonly sharedWithOtherProcesses?: boolean;
  /** The open-file cache shared with the `--root` site; a cache of its own (default size) when not given. */
  readonly cache?: FileCache;
  /** The listing cache shared with the `--root` site; one of its own when not given. */
  readonly listings?: ListingCache;
  /** The server accepts writes (not `--read-only`): listings offer the file manager. Default true. */
  readonly writable?: boolean;
  /** How clients reach the server (`https` with TLS): a MOVE's `Destination` must name it, the QR code shows it. Default `http`. */
  readonly scheme?: 'http' | 'https';
}

/** The `/files/` route over `directory`; without one every file is 404. */
export function filesRoute(directory: string | undefined, options: FilesOptions = {}): Route {
  if (directory === undefined) {
    return { path: PREFIX, prefix: true, methods: { GET: () => NOT_FOUND, POST: () => NOT_FOUND } };
  }
  const dotfiles = options.dotfiles === true;
  const cache = options.cache ?? new FileCache();
  const listings = options.listings ?? new ListingCache();
  const changes = { dotfiles, prefix: PREFIX, sharedWithOtherProcesses: options.sharedWithOtherProcesses === true };
  const uploads = uploadHandlers(directory, changes);
  return {
    path: PREFIX,
    prefix: true,
    methods: {
      GET: servedDirectory({ directory, prefix: PREFIX, dotfiles, cache, listings, writable: options.writable !== false, scheme: options.scheme }), // ap6 Return a file; HEAD too
      ...uploads, // qv8 Read request body; PUT, DELETE
      ...webdavHandlers(directory, { ...changes, scheme: options.scheme }, uploads.DELETE), // MKCOL, MOVE, DELETE of folders (issue 10)
    },
  };
}
