/**
 * Uploads under `/files/`: stage qv8 "Read request body" (`POST` answers
 * `201 Created` and stores the exact bytes), and the methods a file
 * server needs beyond it: `PUT` (RFC 9110 §9.3.4) and `DELETE` (§9.3.5),
 * with `If-Match` / `If-None-Match: *` preconditions (§13.1.1, §13.1.2).
 *
 * An upload is streamed (either framing) into a dot-prefixed temporary
 * file in the target's folder and renamed over the target only once the
 * content is complete and synced, so a client that disconnects, stalls or
 * sends too much, a full disk, or a crash leaves the previous file as it
 * was and no partial file under the target's name. The rename is atomic,
 * so two uploads to one name leave exactly one of the two bodies.
 *
 * Names are decoded once ({@link decodePathSegments}); every folder on the
 * way is resolved through symlinks and must stay inside the directory.
 */

import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { type FileHandle, lstat, mkdir, open, realpath, rename, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { evaluatePreconditions, fileValidators, type Validators } from '../http/conditional.js';
import { HttpError } from '../http/errors.js';
import { decodePathSegments } from '../http/path.js';
import type { Request } from '../http/request.js';
import type { Response } from '../http/response.js';
import type { RequestHandler } from '../http/router.js';

const PREFIX = '/files/';
const TEXT = { 'Content-Type': 'text/plain' } as const;

/** Options of {@link uploadHandlers}. */
export interface UploadOptions {
  /** Allow names with a segment starting with `.` (else they are 404, as for reads). */
  readonly dotfiles?: boolean;
}

/** The handlers {@link uploadHandlers} returns, one per method. */
export interface UploadHandlers {
  readonly POST: RequestHandler;
  readonly PUT: RequestHandler;
  readonly DELETE: RequestHandler;
}

/**
 * `POST`, `PUT` and `DELETE` for `/files/{name}` over `directory`.
 *
 * - `POST` and `PUT` store the request content as the file: `POST`
 *   answers 201; `PUT` 201 when it created the file, 204 when it replaced
 *   one. Missing parent folders are created. Both send the new `ETag`.
 * - `DELETE` answers 204, or 404 when there is no such file.
 * - `If-None-Match: *` makes an upload create-only, `If-Match` makes it
 *   (or a delete) apply only to the given version; otherwise 412.
 * - 404 for a name that is empty, could escape the directory, or has a
 *   dot-segment (unless `dotfiles`); 400 for a malformed encoding; 405 for
 *   a folder; 409 when a parent is a file; file-system failures give 403
 *   (permission), 507 (no space) or 500, leaving no partial file.
 *
 * @param directory absolute path of the served directory.
 */
export function uploadHandlers(directory: string, options: UploadOptions = {}): UploadHandlers {
  const dotfiles = options.dotfiles === true;
  return {
    POST: (req) => upload(directory, dotfiles, req),
    PUT: (req) => upload(directory, dotfiles, req),
    DELETE: (req) => remove(directory, dotfiles, req),
  };
}

// ---- locating the target ---------------------------------------------------------

/** Where a request's file lives, every folder on the way resolved. */
interface Target {
  /** The served directory, symlinks resolved. */
  readonly root: string;
  /** The folder the file is in, symlinks resolved, inside {@link root}. */
  readonly folder: string;
  /** The file itself: `folder/name` (its last component is not resolved). */
  readonly file: string;
  /** Folders this request created, outermost first (removed again if the upload fails). */
  readonly created: string[];
}

/** Names of the temporary files uploads are written to before the rename. */
const PARTIAL_NAME = /^\.upload-[0-9a-f]{16}\.partial$/;

/**
 * True for the name of an upload's temporary file (`.upload-<16 hex>.partial`):
 * never a finished file, so readers should neither list nor serve it,
 * even with `--dotfiles` (one can be left behind by a crash).
 */
export function isPartialUpload(name: string): boolean {
  return PARTIAL_NAME.test(name);
}

/** What a request names: its decoded segments, or the response refusing it. */
function requestedSegments(req: Request, dotfiles: boolean): string[] | Response {
  const encoded = req.path.slice(PREFIX.length);
  const segments = decodePathSegments(encoded); // throws 400 on a malformed encoding
  if (segments === null || segments.some((s) => (!dotfiles && s.startsWith('.')) || isPartialUpload(s))) {
    return { status: 404, headers: TEXT, body: 'no such file\n' };
  }
  if (segments.length === 0 || encoded.endsWith('/')) return notAFile();
  return segments;
}

function notAFile(): Response {
  return { status: 405, headers: { Allow: 'GET, HEAD, OPTIONS', ...TEXT }, body: 'this is a folder, not a file\n' };
}

function isInside(root: string, p: string): boolean {
  return p === root || p.startsWith(root.endsWith(path.sep) ? root : root + path.sep);
}

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

async function lstatOrNull(p: string): Promise<Stats | null> {
  try {
    return await lstat(p);
  } catch (e) {
    if (errno(e) === 'ENOENT') return null;
    throw e;
  }
}

/**
 * Walks the parent folders of `segments` below `directory`, following
 * symlinks only while they stay inside it, creating missing folders when
 * `create`. Checking each folder before creating the next means nothing is
 * ever created outside the directory, even through a symlinked parent.
 * @returns the target, or `null` when a folder is missing (and not
 *   `create`) or resolves outside the directory.
 * @throws HttpError 409 when a parent is a file (and `create`);
 *   file-system errors as they come. Folders it created are removed
 *   again when it throws or returns `null`.
 */
async function locate(directory: string, segments: readonly string[], create: boolean): Promise<Target | null> {
  const root = await realpath(directory);
  const created: string[] = [];
  let folder = root;
  try {
    for (const seg of segments.slice(0, -1)) {
      let next = path.join(folder, seg);
      let st = await lstatOrNull(next);
      if (st === null) {
        if (!create) return null;
        try {
          await mkdir(next);
          created.push(next);
        } catch (e) {
          if (errno(e) !== 'EEXIST') throw e; // else a concurrent upload made it
        }
        st = await lstat(next);
      }
      if (st.isSymbolicLink()) {
        next = (await realpath(next).catch(() => null)) ?? ''; // '' when dangling
        if (!isInside(root, next)) {
          await removeFolders(created);
          return null;
        }
        st = await stat(next);
      }
      if (!st.isDirectory()) {
        if (!create) return null;
        throw new HttpError(409, `${seg} is a file, not a folder`, false);
      }
      folder = next;
    }
  } catch (e) {
    await removeFolders(created);
    throw e;
  }
  return { root, folder, file: path.join(folder, segments[segments.length - 1]!), created };
}

/** What is at the target's name right now. */
interface Current {
  /** Something (a file or a symlink) has the name. */
  readonly exists: boolean;
  /** Validators of the file it names; `null` when none is inside the directory. */
  readonly validators: Validators | null;
}

/**
 * The target's current state, seen as reads see it: a symlink counts as
 * the file it points to when that is inside the directory.
 * @throws HttpError 405 when the name is a folder.
 */
async function current(t: Target): Promise<Current> {
  const l = await lstatOrNull(t.file);
  if (l === null) return { exists: false, validators: null };
  let st: Stats = l;
  if (l.isSymbolicLink()) {
    const real = await realpath(t.file).catch(() => null);
    if (real === null || !isInside(t.root, real)) return { exists: true, validators: null };
    st = await stat(real);
  }
  if (st.isDirectory()) throw new HttpError(405, 'this is a folder, not a file', false, { Allow: 'GET, HEAD, OPTIONS' });
  return { exists: true, validators: st.isFile() ? fileValidators(st) : null };
}

/** Answers 412 unless the request's preconditions hold for `cur` (RFC 9110 §13.2.2). */
function checkPreconditions(req: Request, cur: Current): void {
  if (evaluatePreconditions(req.method, req.fields, cur.validators) === 'failed') {
    throw new HttpError(412, 'precondition failed: the file changed or exists', false);
  }
}

// ---- one change at a time per name -------------------------------------------------

const locks = new Map<string, Promise<unknown>>();

/**
 * Runs `fn` when no other change to `key` is running, so that checking
 * preconditions and committing (rename or unlink) are one step for every
 * request this process serves.
 */
async function exclusive<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(fn);
  const tail = run.catch(() => undefined);
  locks.set(key, tail);
  try {
    return await run;
  } finally {
    if (locks.get(key) === tail) locks.delete(key);
  }
}

// ---- PUT / POST ------------------------------------------------------------------------

/** The status a failed write is answered with; `undefined` for a 500. */
function writeErrorStatus(e: unknown): number | undefined {
  switch (errno(e)) {
    case 'ENOSPC':
    case 'EDQUOT':
    case 'EFBIG':
      return 507;
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 403;
    case 'ENOENT':
    case 'ENOTDIR':
    case 'EEXIST':
      return 409; // a folder on the way changed while we wrote
    case 'EISDIR':
      return 405;
    case 'ENAMETOOLONG':
      return 414;
    default:
      return undefined;
  }
}

/** A file-system failure as an answer: HttpError for known causes, else as is (500). */
function diskError(e: unknown): unknown {
  if (e instanceof HttpError) return e;
  const status = writeErrorStatus(e);
  return status === undefined ? e : new HttpError(status, `cannot store the file (${errno(e)})`);
}

async function upload(directory: string, dotfiles: boolean, req: Request): Promise<Response> {
  const segments = requestedSegments(req, dotfiles);
  if (!Array.isArray(segments)) return segments;
  // A partial representation sent as a whole one would be stored wrongly (RFC 9110 §14.4).
  if (req.fields.has('content-range')) return { status: 400, headers: TEXT, body: 'Content-Range is not allowed in an upload\n' };
  const coding = req.fields.get('content-encoding');
  if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
    // Stored bytes are the representation as sent; say what we accept (RFC 9110 §15.5.16).
    return { status: 415, headers: { 'Accept-Encoding': 'identity', ...TEXT }, body: 'content codings are not accepted in uploads\n' };
  }

  let t: Target | null;
  try {
    t = await locate(directory, segments, true);
  } catch (e) {
    throw diskError(e);
  }
  if (t === null) return { status: 404, headers: TEXT, body: 'no such folder\n' };
  try {
    // Fail early, before asking for the content (no 100 Continue is sent).
    checkPreconditions(req, await current(t));
  } catch (e) {
    await removeFolders(t.created);
    throw diskError(e);
  }

  const temp = path.join(t.folder, `.upload-${randomBytes(8).toString('hex')}.partial`);
  let committed = false;
  try {
    const validators = await receive(req, temp);
    const replaced = await exclusive(t.file, async () => {
      const cur = await current(t);
      checkPreconditions(req, cur); // again: another request may have changed it meanwhile
      await rename(temp, t.file);
      committed = true;
      return cur.exists;
    });
    const status = req.method === 'POST' || !replaced ? 201 : 204;
    return { status, headers: { ETag: validators.etag } };
  } catch (e) {
    if (!committed) {
      await unlink(temp).catch(() => undefined);
      await removeFolders(t.created);
    }
    throw diskError(e);
  }
}

/**
 * Streams the request content into a new file `temp` and syncs it.
 * @returns the validators the file will have once renamed (rename keeps
 *   inode, size and modification time).
 * @throws HttpError 400 when the content does not arrive completely (the
 *   connection has then already answered or closed); file-system errors.
 */
async function receive(req: Request, temp: string): Promise<Validators> {
  const fh = await open(temp, 'wx', 0o666);
  try {
    const chunks = req.body.stream()[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (e) {
        throw new HttpError(400, `request content incomplete: ${(e as Error).message}`);
      }
      if (next.done === true) break;
      try {
        await writeAll(fh, next.value);
      } catch (e) {
        await chunks.return?.();
        throw e;
      }
    }
    // Durable before it becomes visible: a crash after the rename must not
    // leave an empty file where the old one was.
    await fh.datasync();
    return fileValidators(await fh.stat());
  } finally {
    await fh.close();
  }
}

async function writeAll(fh: FileHandle, chunk: Buffer): Promise<void> {
  let off = 0;
  while (off < chunk.length) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.length - off);
    off += bytesWritten;
  }
}

/** Removes folders an unsuccessful upload created, innermost first, if still empty. */
async function removeFolders(created: readonly string[]): Promise<void> {
  for (let i = created.length - 1; i >= 0; i--) {
    try {
      await rmdir(created[i]!);
    } catch {
      return; // not empty: a concurrent upload uses it
    }
  }
}

// ---- DELETE ----------------------------------------------------------------------------

async function remove(directory: string, dotfiles: boolean, req: Request): Promise<Response> {
  const segments = requestedSegments(req, dotfiles);
  if (!Array.isArray(segments)) return segments;
  const notFound: Response = { status: 404, headers: TEXT, body: 'no such file\n' };
  try {
    const t = await locate(directory, segments, false);
    if (t === null) return notFound;
    return await exclusive(t.file, async () => {
      const cur = await current(t);
      // Only what a read would serve can be deleted: not a link that leads outside.
      if (cur.validators === null) return notFound;
      checkPreconditions(req, cur);
      await unlink(t.file); // a symlink is removed, never what it points to
      return { status: 204 };
    });
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return notFound;
    throw diskError(e);
  }
}
