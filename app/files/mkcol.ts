/**
 * `MKCOL /files/{path}`: creates one folder (RFC 4918 §9.3).
 *
 * - 201 Created: the folder was made (`mkdir`, atomic: of two requests for
 *   one name, one gets 201 and the other 405).
 * - 405 Method Not Allowed (with `Allow`): something has the name already,
 *   a file or a folder, the served folder itself included (§9.3.1).
 * - 409 Conflict: a parent folder is missing or is a file; MKCOL makes one
 *   level only (§9.3.1).
 * - 415 Unsupported Media Type: the request has content; no MKCOL body
 *   format is supported (§9.3). The content is not read.
 * - 404 for a name the path rules refuse (`..`, encoded `/`, NUL, dot-names
 *   without `--dotfiles`, upload temporary names) or whose folder leads
 *   outside the directory; 403 when the file system refuses; 507 no space.
 *
 * The trailing `/` of a collection URL is optional.
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Request } from '../http/request.js';
import type { Response } from '../http/response.js';
import { type Place, exclusive, walk } from './uploads.js';
import { FILE_ALLOW, FOLDER_ALLOW, NOT_FOUND, changeFailure, errno, lstatOrNone, requestName, text } from './webdav-common.js';

/** Answers a `MKCOL` request (see the module comment). @throws HttpError 400 (malformed encoding), 403, 507. */
export async function mkcol(place: Place, req: Request): Promise<Response> {
  const name = requestName(place, req);
  if (name === null) return NOT_FOUND;
  if (req.body.present) return text(415, 'MKCOL takes no request content');
  const { segments } = name;
  if (segments.length === 0) return exists(true);
  const root = place.root();
  try {
    const w = walk(root, segments.slice(0, -1));
    if (w.kind === 'outside') return NOT_FOUND;
    if (w.kind === 'missing') return text(409, `the parent folder ${w.missing[0]} does not exist`);
    if (w.kind === 'file') return text(409, `${w.name} is a file, not a folder`);
    const folder = path.join(w.folder, segments[segments.length - 1]!);
    const before = lstatOrNone(folder);
    if (before !== undefined) return exists(before.isDirectory());
    return await exclusive(folder, place.lockAcrossProcesses, async () => {
      try {
        await fs.promises.mkdir(folder);
      } catch (e) {
        if (errno(e) === 'EEXIST') return exists(lstatOrNone(folder)?.isDirectory() ?? false);
        if (errno(e) === 'ENOENT') return text(409, 'the parent folder does not exist');
        throw e;
      }
      return { status: 201 };
    });
  } catch (e) {
    throw changeFailure(e, 'cannot create the folder');
  }
}

function exists(isFolder: boolean): Response {
  return text(405, isFolder ? 'a folder with this name exists' : 'a file with this name exists', { Allow: isFolder ? FOLDER_ALLOW : FILE_ALLOW });
}
