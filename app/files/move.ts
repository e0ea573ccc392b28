/**
 * `MOVE /files/{path}` with `Destination`: renames or moves a file or a
 * folder within the served directory (RFC 4918 §9.9), with one
 * `rename(2)`, so it is atomic: a reader sees the old name or the new one,
 * never a half-moved tree.
 *
 * `Destination` (§10.3) is an absolute URI (`http://host:port/files/b`)
 * or an absolute path (`/files/b`), no query, fragment or userinfo (400
 * otherwise, or when missing). An absolute URI must name this server: the same scheme
 * and the authority of the request's `Host` (default ports equal); another
 * one is 502 Bad Gateway (§9.9.4), and so is a path outside `/files/`
 * (another URL namespace). The path after `/files/` is decoded once under
 * the rules of request paths; what they refuse (`..`, an encoded `/`, NUL,
 * a dot-name without `--dotfiles`, an upload's temporary name) is 403, as
 * is a destination folder that leads outside the directory through a
 * symlink, or the served folder itself.
 *
 * Answers:
 * - 201 Created: the destination did not exist; 204 No Content: it did
 *   and was replaced (`Overwrite: T`, the default).
 * - 412 Precondition Failed: `Overwrite: F` and the destination exists;
 *   or, for a file, `If-Match` / `If-None-Match` / `If-Unmodified-Since`
 *   do not hold for the source (RFC 9110 §13.2.2).
 * - 409 Conflict: the destination's parent folder does not exist or is a
 *   file (§9.9.4). Also when the destination is a folder that is not empty
 *   and `Overwrite: T` was not sent explicitly: replacing it removes a
 *   tree, and like `DELETE` (which wants `Depth: infinity`) that must be
 *   asked for by name.
 * - 403 Forbidden: source and destination are the same (§9.9.4); a folder
 *   moved into itself or below itself, or onto a folder that contains it.
 *   403 rather than 409 because no change of state could ever make such a
 *   request succeed (409 is for conflicts the client might resolve, RFC
 *   9110 §15.5.10); Apache's mod_dav answers 403 too.
 * - 404: no source (or it is a symlink leading outside); 400 for
 *   `Overwrite` other than `T`/`F`, or `Depth` other than `infinity` on a
 *   folder (§9.9.2); 502 when the destination is on another file system
 *   (no atomic rename there).
 *
 * Replacing: a file over a file, and a folder over an empty folder, is one
 * `rename`, atomic. A folder replacing a non-empty folder, or a file
 * replacing a folder and vice versa, first removes the destination, then
 * renames (RFC 4918 §9.9.3 describes overwrite as such a delete): readers
 * may see the name missing in between.
 *
 * Races: the source's and the destination's names are locked with the
 * locks uploads take ({@link exclusive}), the two in the order of their
 * paths so two moves cannot deadlock, and everything is checked again
 * under them. An upload that is running inside a folder being moved fails
 * with 409 at its final rename; its temporary file moves with the folder,
 * hidden, and is removed at the next start (`stale-uploads.ts`).
 */

import fs from 'node:fs';
import path from 'node:path';
import { evaluatePreconditions, fileValidators } from '../http/conditional.js';
import { HttpError } from '../http/errors.js';
import type { Request } from '../http/request.js';
import type { Response } from '../http/response.js';
import { type Place, exclusive, resolveInside, walk } from './uploads.js';
import { NOT_FOUND, type Named, changeFailure, errno, lstatOrNone, nameOf, requestName, text } from './webdav-common.js';

/** absolute-URI = scheme ":" hier-part with an authority, split as scheme, authority, path, query/fragment (RFC 3986 §3). */
const ABSOLUTE_URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)([^?#]*)([?#].*)?$/;
/** Characters a URI may hold (RFC 3986 §2): visible ASCII; anything else is not a URI. */
const URI_CHARS = /^[\x21-\x7e]+$/;

/** `host:port` of an authority, lower-case, with the scheme's default port filled in. */
function normalAuthority(authority: string, scheme: string): string {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority.toLowerCase());
  if (m === null) return authority.toLowerCase();
  const port = m[2] === undefined || m[2] === '' ? (scheme === 'https' ? '443' : '80') : String(Number(m[2]));
  return `${m[1]}:${port}`;
}

/**
 * The name `Destination` gives, relative to `place` (see the module
 * comment for the rules), or the response refusing it.
 * @param scheme the scheme this server is reached by (`http`/`https`).
 * @returns the decoded segments (never empty), or 400/403/502.
 * @throws HttpError 400 on a malformed percent-encoding.
 */
export function destinationOf(place: Place, req: Request, scheme: string): Named | Response {
  const value = req.fields.get('destination')?.trim();
  if (value === undefined || value === '') return text(400, 'MOVE needs a Destination header');
  if (!URI_CHARS.test(value)) return text(400, 'Destination is not a URI (percent-encode spaces and non-ASCII characters)');
  let target: string;
  if (value.startsWith('/')) {
    if (value.startsWith('//')) return text(400, 'Destination must be an absolute URI or an absolute path');
    if (/[?#]/.test(value)) return text(400, 'Destination must not have a query or fragment');
    target = value;
  } else {
    const m = ABSOLUTE_URI.exec(value);
    if (m === null) return text(400, 'Destination must be an absolute URI or an absolute path');
    if (m[4] !== undefined) return text(400, 'Destination must not have a query or fragment');
    // An http(s) URI carries no userinfo (RFC 9110 §4.2.4).
    if (m[2]!.includes('@')) return text(400, 'Destination must not have userinfo');
    const host = req.fields.get('host');
    if (m[1]!.toLowerCase() !== scheme || host === undefined || normalAuthority(m[2]!, scheme) !== normalAuthority(host.trim(), scheme)) {
      return text(502, 'Destination is on another server: only moves within this one are possible');
    }
    target = m[3] === '' ? '/' : m[3]!;
  }
  if (!target.startsWith(place.prefix)) return text(502, `Destination is outside ${place.prefix}: only moves within it are possible`);
  const name = nameOf(place, target.slice(place.prefix.length));
  if (name === null) return text(403, 'Destination is a name the path rules refuse (.., encoded /, NUL, or a hidden name)');
  if (name.segments.length === 0) return text(403, 'the served folder itself cannot be replaced');
  return name;
}

/** True when `p` is `folder` or lies below it (whole components). */
function within(folder: string, p: string): boolean {
  return p === folder || p.startsWith(`${folder}/`);
}

/**
 * Answers a `MOVE` request (see the module comment).
 * @param scheme the scheme clients reach this server by.
 * @throws HttpError 400 (malformed encoding), 403, 409, 507 when the file
 *   system refuses or changes meanwhile.
 */
export async function move(place: Place, req: Request, scheme: string): Promise<Response> {
  const source = requestName(place, req);
  if (source === null) return NOT_FOUND;
  if (source.segments.length === 0) return text(403, 'the served folder itself cannot be moved');
  const dest = destinationOf(place, req, scheme);
  if (!('segments' in dest)) return dest;
  const overwriteField = req.fields.get('overwrite')?.trim();
  if (overwriteField !== undefined && overwriteField !== 'T' && overwriteField !== 'F') return text(400, 'Overwrite must be T or F');
  const root = place.root();
  try {
    const sw = walk(root, source.segments.slice(0, -1));
    if (sw.kind !== 'found') return NOT_FOUND;
    const from = path.join(sw.folder, source.segments[source.segments.length - 1]!);
    const st = lstatOrNone(from);
    if (st === undefined) return NOT_FOUND;
    // A symlink is moved as a name; one leading outside is not ours to move (reads 404 it too).
    const resolved = st.isSymbolicLink() ? resolveInside(root, from) : from;
    if (resolved === null) return NOT_FOUND;
    const isFolder = st.isDirectory() || (st.isSymbolicLink() && fs.statSync(resolved).isDirectory());
    if (source.slashEnded && !isFolder) return NOT_FOUND; // as GET: a file named with a slash is no file
    const depth = req.fields.get('depth')?.trim().toLowerCase();
    if (isFolder && depth !== undefined && depth !== 'infinity') return text(400, 'MOVE of a folder takes no Depth but infinity (RFC 4918 §9.9.2)');
    if (dest.slashEnded && !isFolder) return text(400, 'Destination ends in / but the source is a file');

    const dw = walk(root, dest.segments.slice(0, -1));
    if (dw.kind === 'outside') return text(403, 'Destination leads outside the served folder');
    if (dw.kind === 'missing') return text(409, `the destination folder ${dw.missing[0]} does not exist`);
    if (dw.kind === 'file') return text(409, `${dw.name} is a file, not a folder`);
    const to = path.join(dw.folder, dest.segments[dest.segments.length - 1]!);
    if (to === from) return text(403, 'source and destination are the same');
    if (st.isDirectory() && within(from, to)) return text(403, 'a folder cannot be moved into itself');
    if (within(to, from)) return text(403, 'the destination is a folder that contains the source');

    const [first, second] = from < to ? [from, to] : [to, from];
    const lock = place.lockAcrossProcesses;
    return await exclusive(first, lock, () => exclusive(second, lock, () => commit(req, from, to, overwriteField)));
  } catch (e) {
    throw changeFailure(e, 'cannot move');
  }
}

/** The move itself, under both locks: checks again, then renames (removing a destination it may not rename over). */
async function commit(req: Request, from: string, to: string, overwriteField: string | undefined): Promise<Response> {
  const src = lstatOrNone(from);
  if (src === undefined) return NOT_FOUND;
  if (src.isFile() && evaluatePreconditions(req.method, req.fields, fileValidators(src)) === 'failed') {
    return text(412, 'precondition failed: the file changed');
  }
  const dst = lstatOrNone(to);
  if (dst === undefined) {
    await renameOrExdev(from, to);
    return { status: 201 };
  }
  if (overwriteField === 'F') return text(412, 'the destination exists and Overwrite: F was sent');
  const explicit = overwriteField === 'T';
  if (!dst.isDirectory()) {
    // A file or symlink: renamed over atomically, unless a folder takes its place.
    if (src.isDirectory()) await fs.promises.unlink(to);
  } else if (src.isDirectory()) {
    try {
      await renameOrExdev(from, to); // over an empty folder: atomic
      return { status: 204 };
    } catch (e) {
      if (errno(e) !== 'ENOTEMPTY' && errno(e) !== 'EEXIST') throw e;
    }
    if (!explicit) return notEmpty();
    await fs.promises.rm(to, { recursive: true, maxRetries: 2 });
  } else {
    try {
      await fs.promises.rmdir(to);
    } catch (e) {
      if (errno(e) !== 'ENOTEMPTY' && errno(e) !== 'EEXIST') throw e;
      if (!explicit) return notEmpty();
      await fs.promises.rm(to, { recursive: true, maxRetries: 2 });
    }
  }
  await renameOrExdev(from, to);
  return { status: 204 };
}

function notEmpty(): Response {
  return text(409, 'the destination is a folder that is not empty: send Overwrite: T to replace it and everything in it');
}

/** `rename`, with another file system (EXDEV: no atomic rename) answered as 502 (RFC 4918 §9.9.4). */
async function renameOrExdev(from: string, to: string): Promise<void> {
  try {
    await fs.promises.rename(from, to);
  } catch (e) {
    if (errno(e) === 'EXDEV') throw new HttpError(502, 'the destination is on another file system: no atomic move there', false);
    throw e;
  }
}
