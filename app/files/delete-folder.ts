/**
 * `DELETE /files/{folder}/`: removes a folder (RFC 4918 §9.6); files are
 * left to the `DELETE` of `uploads.ts`.
 *
 * - An empty folder is removed (`rmdir`): 204.
 * - A folder that is not empty is removed, with everything in it, only
 *   when the request asks for it with `Depth: infinity`. Without it the
 *   answer is 409 Conflict with a text body saying to send that header.
 *   This departs on purpose from RFC 4918 §9.6.1, where a `DELETE` of a
 *   collection always acts as `Depth: infinity`: a stray `curl -X DELETE`
 *   must not wipe a tree. Names hidden from listings (dotfiles without
 *   `--dotfiles`) count: such a folder is not empty. Any other `Depth`
 *   value on a folder is 400 (§9.6.1 forbids it).
 * - The recursive removal is `fs.rm` of the folder's own path, after
 *   checking it is a real folder (not a symlink) inside the directory; `rm`
 *   removes symlinks it meets inside, never what they point to, so nothing
 *   outside the tree is touched. It is not atomic: a failure midway (403)
 *   leaves what could not be removed.
 * - The served folder itself is never removed: 403.
 * - A symlink to a folder inside is a name like a file's: it is removed,
 *   not the folder (the file `DELETE` does this). `If-Match` and friends
 *   apply to files only (a folder has no validators).
 *
 * An upload into a folder being removed fails cleanly (its rename finds no
 * folder: 409) and leaves nothing behind.
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Request } from '../http/request.js';
import type { Response } from '../http/response.js';
import type { RequestHandler } from '../http/router.js';
import { isInside } from './open-file.js';
import { type Place, exclusive, walk } from './uploads.js';
import { NOT_FOUND, changeFailure, errno, lstatOrNone, requestName, text } from './webdav-common.js';

/**
 * The `DELETE` handler for `place`: folders here, every other target
 * (files, symlinks, names that do not exist) by `deleteFile`.
 * @returns a handler answering 204, 400, 403, 404, 409 (see the module
 *   comment); it throws HttpError 400 on a malformed encoding, 403/507 when
 *   the file system refuses.
 */
export function deleteWithFolders(place: Place, deleteFile: RequestHandler): RequestHandler {
  return async (req: Request): Promise<Response> => {
    const name = requestName(place, req);
    if (name === null) return deleteFile(req); // its own 404, as for any file
    const { segments } = name;
    if (segments.length === 0) return text(403, 'the served folder itself cannot be deleted');
    try {
      const root = place.root();
      const w = walk(root, segments.slice(0, -1));
      if (w.kind !== 'found') return await deleteFile(req);
      const folder = path.join(w.folder, segments[segments.length - 1]!);
      if (lstatOrNone(folder)?.isDirectory() !== true) return await deleteFile(req);
      const depth = req.fields.get('depth')?.trim().toLowerCase();
      if (depth !== undefined && depth !== 'infinity') return text(400, 'DELETE of a folder takes no Depth but infinity (RFC 4918 §9.6.1)');
      return await exclusive(folder, place.lockAcrossProcesses, () => removeFolder(root, folder, depth === 'infinity'));
    } catch (e) {
      throw changeFailure(e, 'cannot delete the folder');
    }
  };
}

/** Removes `folder` (a real folder inside `root`, its parent resolved): alone when empty, else only when `recursive`. */
async function removeFolder(root: string, folder: string, recursive: boolean): Promise<Response> {
  const st = lstatOrNone(folder); // again, under the lock
  if (st === undefined) return NOT_FOUND;
  if (!st.isDirectory()) return text(409, 'the folder was replaced meanwhile');
  try {
    await fs.promises.rmdir(folder);
    return { status: 204 };
  } catch (e) {
    const code = errno(e);
    if (code === 'ENOENT') return NOT_FOUND;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
  }
  if (!recursive) {
    return text(409, 'the folder is not empty (it may hold hidden files): send Depth: infinity to delete it and everything in it');
  }
  // Containment: the parent was resolved inside, and the name itself is a real folder (lstat), so its path is its real path.
  if (!isInside(root, folder) || folder === root || fs.realpathSync.native(folder) !== folder) return NOT_FOUND;
  await fs.promises.rm(folder, { recursive: true, maxRetries: 2 });
  return { status: 204 };
}
