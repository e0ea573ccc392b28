/**
 * Stages ap6 "Return a file" and qv8 "Read request body":
 * `GET /files/{name}` sends the file `{name}` from `--directory` as
 * `application/octet-stream`; `POST /files/{name}` stores the request
 * content there and answers `201 Created` (RFC 9110 §9.3.1, §9.3.3).
 *
 * Files are streamed both ways, never read whole into memory. An upload is
 * written to a temporary file in the same directory and renamed into place
 * only once the content is complete, so a broken upload leaves the old file
 * as it was. Names are decoded once and may not leave the directory.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { decodePathSegments } from '../app/http/path.js';
import type { Request } from '../app/http/request.js';
import type { Response } from '../app/http/response.js';
import type { Route } from '../app/http/router.js';
import { uploadHandlers } from './uploads.js';

const PREFIX = '/files/';
const NOT_FOUND: Response = { status: 404 };

/**
 * The file a request names under `directory`, or `null` when the name is
 * empty or could escape it (see {@link decodePathSegments}).
 * @throws HttpError 400 on a malformed percent-encoding.
 */
export function resolveFile(directory: string, req: Request): string | null {
  const segments = decodePathSegments(req.path.slice(PREFIX.length));
  if (segments === null || segments.length === 0) return null;
  return path.join(directory, ...segments);
}

/** Maps a file-system error to the status that describes it. */
export function fsErrorStatus(err: unknown): number {
  switch ((err as NodeJS.ErrnoException).code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 404;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 403;
    case 'ENOSPC':
    case 'EDQUOT':
      return 507;
    case 'EISDIR':
      return 409;
    default:
      return 500;
  }
}

async function getFile(file: string): Promise<Response> {
  let st;
  try {
    st = await stat(file);
  } catch {
    return NOT_FOUND;
  }
  if (!st.isFile()) return NOT_FOUND;
  return {
    status: 200,
    headers: { 'Content-Type': 'application/octet-stream' },
    body: { length: st.size, open: () => createReadStream(file) },
  };
}

/** The `/files/` route over `directory`; without one every file is 404. */
export function filesRoute(directory: string | undefined): Route {
  if (directory === undefined) {
    return { path: PREFIX, prefix: true, methods: { GET: () => NOT_FOUND, POST: () => NOT_FOUND } };
  }
  return {
    path: PREFIX,
    prefix: true,
    methods: {
      GET: (req) => {
        const file = resolveFile(directory, req);
        return file === null ? NOT_FOUND : getFile(file);
      },
      ...uploadHandlers(directory), // qv8 Read request body; PUT, DELETE
    },
  };
}
