/**
 * What the WebDAV operations (`mkcol.ts`, `move.ts`, `delete-folder.ts`)
 * share: reading a name per the path rules, plain-text answers, and the
 * statuses of file-system failures. See `webdav.ts` for the rules.
 */

import fs from 'node:fs';
import { HttpError } from '../http/errors.js';
import { decodePathSegments } from '../http/path.js';
import type { Request } from '../http/request.js';
import { type Response, TEXT_PLAIN } from '../http/response.js';
import { type Place, isPartialUpload } from './uploads.js';

/** A name a request may use: decoded segments and whether it ended in `/`. */
export interface Named {
  readonly segments: readonly string[];
  readonly slashEnded: boolean;
}

/** True when a decoded segment is one the path rules hide (see the module comment). */
export function isHiddenSegment(place: Place, segment: string): boolean {
  return (!place.dotfiles && segment.startsWith('.')) || isPartialUpload(segment);
}

/**
 * The name `encoded` (the part of a path after the prefix, still
 * percent-encoded) per the path rules, or `null` when they refuse it
 * (`..`, encoded `/`, NUL, a hidden segment).
 * @throws HttpError 400 on a malformed percent-encoding.
 */
export function nameOf(place: Place, encoded: string): Named | null {
  const segments = decodePathSegments(encoded);
  if (segments === null || segments.some((s) => isHiddenSegment(place, s))) return null;
  return { segments, slashEnded: encoded === '' || encoded.endsWith('/') };
}

/** The request's own name (after the prefix), or `null` when the path rules refuse it. */
export function requestName(place: Place, req: Request): Named | null {
  return nameOf(place, req.path.slice(place.prefix.length));
}

/** A text answer: `status` with `message` and a newline as the body. */
export function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  return { status, headers: { ...headers, ...TEXT_PLAIN }, body: `${message}\n` };
}

export const NOT_FOUND: Response = Object.freeze(text(404, 'no such file or folder'));

/** What a folder allows (RFC 9110 §10.2.1, for a 405). */
export const FOLDER_ALLOW = 'GET, HEAD, DELETE, MOVE, OPTIONS';
/** What a file allows. */
export const FILE_ALLOW = 'GET, HEAD, PUT, POST, DELETE, MOVE, OPTIONS';

export function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/**
 * A file-system failure of a change as an HttpError (connection kept):
 * 403 permission, 507 no space, 409 when something on the way changed
 * meanwhile; anything else is returned as is (a 500).
 * @param what says what failed, e.g. `cannot move`.
 */
export function changeFailure(e: unknown, what: string): unknown {
  if (e instanceof HttpError) return e;
  const code = errno(e);
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'EBUSY':
      return new HttpError(403, `${what} (${code})`, false);
    case 'ENOSPC':
    case 'EDQUOT':
      return new HttpError(507, `${what} (${code})`, false);
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EEXIST':
    case 'ENOTEMPTY':
    case 'EISDIR':
    case 'EINVAL':
      return new HttpError(409, `${what}: it changed meanwhile (${code})`, false);
    case 'ENAMETOOLONG':
      return new HttpError(414, `${what} (${code})`, false);
    default:
      return e;
  }
}

/** `lstat` of `p`, `undefined` when nothing has that name. Synchronous: metadata only. */
export function lstatOrNone(p: string): fs.Stats | undefined {
  return fs.lstatSync(p, { throwIfNoEntry: false });
}
