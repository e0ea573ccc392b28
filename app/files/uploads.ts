/**
 * Uploads under `/files/`: stage qv8 "Read request body" (`POST` answers
 * `201 Created` and stores the exact bytes), and the methods a file
 * server needs beyond it: `PUT` (RFC 9110 §9.3.4) and `DELETE` (§9.3.5),
 * with `If-Match` / `If-None-Match: *` preconditions (§13.1.1, §13.1.2).
 *
 * Durability: an upload is streamed (either framing) into a dot-prefixed
 * temporary file in the target's folder, synced (`fdatasync`), and only
 * then renamed over the target, so a client that disconnects, stalls or
 * sends too much, a full disk, or a crash leaves the previous file as it
 * was and no partial file under the target's name. The rename is atomic,
 * so two uploads to one name leave exactly one of the two bodies, and the
 * next read of the name (which validates by `lstat`/`stat`) sees the new
 * file. Checking the preconditions and renaming (or unlinking) is one step
 * per name, across processes too ({@link exclusive}, `upload-lock.ts`).
 *
 * Path safety: names are decoded once ({@link decodePathSegments}); every
 * folder on the way is resolved through symlinks and must stay inside the
 * directory before the next one is looked at or created.
 *
 * Folders: missing parent folders are created, but only once the
 * preconditions that can be decided without them have passed (a missing
 * folder means no file), so an upload refused with 412 creates nothing.
 * An upload that fails after creating folders removes them again if they
 * are still empty (`rmdir` refuses otherwise). Another upload may have
 * found such a folder a moment earlier and be about to create its
 * temporary file there: that `open` then fails with ENOENT, and the upload
 * simply looks for (and creates) its folders again, a few times at most
 * ({@link ATTEMPTS}). Once its temporary file exists the folder is not
 * empty and cannot be removed under it. This holds across processes too,
 * which a per-process count of folder users would not.
 *
 * Speed: every asynchronous file-system call is a round trip through
 * libuv's thread pool that costs about 10-30 µs of CPU, more than the call
 * itself. So the calls that only read metadata the kernel keeps cached
 * (`lstat`/`stat`/`realpath` of a path in the served directory, `fstat`
 * of our open file) and the `close` of a file whose data is already synced
 * are made synchronously: on a local file system they take a few
 * microseconds and cannot wait on the disk. The calls that write (`open`
 * with create, `mkdir`, the data, `fdatasync`, `rename`, `unlink`) stay
 * asynchronous, and the content's chunks are gathered into one `writev`
 * per 64 KiB or so. (On a network file system a metadata call could block
 * the event loop; serve a local directory.)
 */

import { randomBytes } from 'node:crypto';
import fs, { type Stats } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { evaluatePreconditions, fileValidators, type Validators } from '../http/conditional.js';
import { HttpError } from '../http/errors.js';
import { decodePathSegments } from '../http/path.js';
import type { Request } from '../http/request.js';
import { type Response, TEXT_PLAIN } from '../http/response.js';
import type { RequestHandler } from '../http/router.js';
import { isInside } from './open-file.js';
import { withNameLock } from './upload-lock.js';



/** Options of {@link uploadHandlers}. */
export interface UploadOptions {
  /** Allow names with a segment starting with `.` (else they are 404, as for reads). */
  readonly dotfiles?: boolean;
  /** The URL path the directory is served under, starting and ending with `/`; `/files/` when not given. */
  readonly prefix?: string;
  /**
   * Other processes of this server write the directory too (`--workers` > 1):
   * take the per-name lock file as well as the in-memory queue. Off by
   * default, since a lock file costs about 100 µs of CPU per upload.
   */
  readonly sharedWithOtherProcesses?: boolean;
}

/** What a request's name is resolved against (shared with the WebDAV handlers, `webdav.ts`). */
export interface Place {
  /** The served directory's real path. */
  readonly root: () => string;
  /** Its URL prefix, e.g. `/files/`. */
  readonly prefix: string;
  readonly dotfiles: boolean;
  /** Whether changes also take the cross-process lock file. */
  readonly lockAcrossProcesses: boolean;
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
 * @param directory path of the served directory. Its real path (symlinks
 *   resolved) is looked up once, on the first request that needs it.
 */
export function uploadHandlers(directory: string, options: UploadOptions = {}): UploadHandlers {
  const place = placeOf(directory, options);
  return {
    POST: (req) => upload(place, req),
    PUT: (req) => upload(place, req),
    DELETE: (req) => remove(place, req),
  };
}

/**
 * The {@link Place} of `directory` served under `options.prefix`. Its real
 * path is looked up once, on the first request that needs it.
 */
export function placeOf(directory: string, options: UploadOptions = {}): Place {
  let real: string | undefined;
  return {
    root: () => (real ??= fs.realpathSync.native(directory)),
    prefix: options.prefix ?? '/files/',
    dotfiles: options.dotfiles === true,
    lockAcrossProcesses: options.sharedWithOtherProcesses === true,
  };
}

// ---- locating the target ---------------------------------------------------------

/**
 * Names of the temporary files uploads are written to before the rename
 * (`.upload-<16 hex>.partial`), and of the links that lock a name while an
 * upload commits (`.upload-lock-<16 hex>`, and `.break` beside one while a
 * stale lock is broken; see `upload-lock.ts`).
 */
const PARTIAL_NAME = /^\.upload-(?:[0-9a-f]{16}\.partial|lock-[0-9a-f]{16}(?:\.break)?)$/;

/**
 * True for the name of an upload's temporary file (`.upload-<16 hex>.partial`)
 * or lock (`.upload-lock-<16 hex>[.break]`): never a finished file, so
 * readers should neither list nor serve it, even with `--dotfiles` (one
 * can be left behind by a crash), and no request may name it.
 */
export function isPartialUpload(name: string): boolean {
  return PARTIAL_NAME.test(name);
}

/** This process's part of a temporary file's name: 8 random hex digits. */
const TEMP_PREFIX = randomBytes(4).toString('hex');
let tempCounter = 0;

/** A new temporary file name, unique in this process; `open` with O_EXCL settles the rest. */
function tempName(): string {
  tempCounter = (tempCounter + 1) >>> 0;
  return `.upload-${TEMP_PREFIX}${tempCounter.toString(16).padStart(8, '0')}.partial`;
}

/** What a request names: its decoded segments, or the response refusing it. */
function requestedSegments(req: Request, { prefix, dotfiles }: Place): string[] | Response {
  const encoded = req.path.slice(prefix.length);
  const segments = decodePathSegments(encoded); // throws 400 on a malformed encoding
  if (segments === null || segments.some((s) => (!dotfiles && s.startsWith('.')) || isPartialUpload(s))) {
    return { status: 404, headers: TEXT_PLAIN, body: 'no such file\n' };
  }
  if (segments.length === 0 || encoded.endsWith('/')) return notAFile();
  return segments;
}

function notAFile(): Response {
  return { status: 405, headers: { Allow: 'GET, HEAD, DELETE, MOVE, OPTIONS', ...TEXT_PLAIN }, body: 'this is a folder, not a file\n' };
}

const NO_FOLDER: Response = { status: 404, headers: TEXT_PLAIN, body: 'no such folder\n' };

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

/** Real path of `p`, or `null` when it is dangling or leads outside `root`. */
export function resolveInside(root: string, p: string): string | null {
  let real: string;
  try {
    real = fs.realpathSync.native(p);
  } catch {
    return null;
  }
  return isInside(root, real) ? real : null;
}

/** Where the parent folders of a name stand, found by {@link walk}. */
export type Walk =
  /** Every parent folder exists; `folder` is the innermost, resolved. */
  | { readonly kind: 'found'; readonly folder: string }
  /** `folder` (resolved) is the innermost that exists; `missing` are the names below it still to create. */
  | { readonly kind: 'missing'; readonly folder: string; readonly missing: readonly string[] }
  /** A parent is a symlink that dangles or leads outside the directory. */
  | { readonly kind: 'outside' }
  /** A parent (`name`) is a file, not a folder. */
  | { readonly kind: 'file'; readonly name: string };

/**
 * Looks at the parent folders `parents` below `root` one by one,
 * following symlinks only while they stay inside; creates nothing.
 * Synchronous: metadata reads only (see the module comment).
 * @throws file-system errors other than a missing name (EACCES, ENOTDIR in a race, ...).
 */
export function walk(root: string, parents: readonly string[]): Walk {
  let folder = root;
  for (let i = 0; i < parents.length; i++) {
    let next = path.join(folder, parents[i]!);
    let st: Stats | undefined = fs.lstatSync(next, { throwIfNoEntry: false });
    if (st === undefined) return { kind: 'missing', folder, missing: parents.slice(i) };
    if (st.isSymbolicLink()) {
      const real = resolveInside(root, next);
      if (real === null) return { kind: 'outside' };
      next = real;
      st = fs.statSync(next);
    }
    if (!st.isDirectory()) return { kind: 'file', name: parents[i]! };
    folder = next;
  }
  return { kind: 'found', folder };
}

/**
 * Creates the folders `missing` below `folder`, one by one, checking each
 * (a concurrent upload may have made it, or put a link there) before
 * creating the next, so nothing is ever created outside `root`.
 * @param created receives each folder this call made, outermost first.
 * @returns the innermost folder, resolved.
 * @throws HttpError 404 when a link leads outside, 409 when a file is in
 *   the way; file-system errors as they come.
 */
async function makeFolders(root: string, folder: string, missing: readonly string[], created: string[]): Promise<string> {
  for (const name of missing) {
    let next = path.join(folder, name);
    try {
      await fs.promises.mkdir(next);
      created.push(next);
      folder = next;
      continue;
    } catch (e) {
      if (errno(e) !== 'EEXIST') throw e; // else a concurrent upload made it: check what it is
    }
    let st = fs.lstatSync(next);
    if (st.isSymbolicLink()) {
      const real = resolveInside(root, next);
      if (real === null) throw new HttpError(404, 'no such folder', false);
      next = real;
      st = fs.statSync(next);
    }
    if (!st.isDirectory()) throw new HttpError(409, `${name} is a file, not a folder`, false);
    folder = next;
  }
  return folder;
}

/** Removes folders an unsuccessful upload created, innermost first, while they are empty. */
async function removeFolders(created: readonly string[]): Promise<void> {
  for (let i = created.length - 1; i >= 0; i--) {
    try {
      await fs.promises.rmdir(created[i]!);
    } catch {
      return; // not empty: another upload uses it
    }
  }
}

/** What is at the target's name right now. */
interface Current {
  /** Something (a file or a symlink) has the name. */
  readonly exists: boolean;
  /** Validators of the file it names; `null` when none is inside the directory. */
  readonly validators: Validators | null;
}

const ABSENT: Current = { exists: false, validators: null };

/**
 * The state of `file` (inside `root`), seen as reads see it: a symlink
 * counts as the file it points to when that is inside the directory.
 * Synchronous: metadata reads only (see the module comment).
 * @throws HttpError 405 when the name is a folder; file-system errors.
 */
function current(root: string, file: string): Current {
  const l = fs.lstatSync(file, { throwIfNoEntry: false });
  if (l === undefined) return ABSENT;
  let st: Stats = l;
  if (l.isSymbolicLink()) {
    const real = resolveInside(root, file);
    if (real === null) return { exists: true, validators: null };
    st = fs.statSync(real);
  }
  if (st.isDirectory()) throw new HttpError(405, 'this is a folder, not a file', false, { Allow: 'GET, HEAD, DELETE, MOVE, OPTIONS' });
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
 * Runs `fn` when no other change to `key` (a target's path) is running,
 * here or (with `acrossProcesses`) in another process serving the
 * directory, so that checking preconditions and committing (rename or
 * unlink) are one step for every request. Requests of this process queue in
 * memory; only the head of the queue takes the name's lock file
 * ({@link withNameLock}), and only when other processes share the directory.
 */
export async function exclusive<T>(key: string, acrossProcesses: boolean, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.then(() => (acrossProcesses ? withNameLock(key, fn) : fn()));
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
export function diskError(e: unknown): unknown {
  if (e instanceof HttpError) return e;
  const status = writeErrorStatus(e);
  return status === undefined ? e : new HttpError(status, `cannot store the file (${errno(e)})`);
}

/** How many times an upload looks for its folder when one on the way vanishes (see the module comment). */
const ATTEMPTS = 8;

/** A temporary file opened for an upload. */
interface Opened {
  /** The target: `folder/name`, its folder resolved. */
  readonly file: string;
  /** The temporary file, in the same folder. */
  readonly temp: string;
  /** Open for writing. */
  readonly fd: number;
  /** Folders made for the upload, outermost first (removed again if it fails). */
  readonly created: string[];
}

async function upload(place: Place, req: Request): Promise<Response> {
  const root = place.root;
  const segments = requestedSegments(req, place);
  if (!Array.isArray(segments)) return segments;
  // A partial representation sent as a whole one would be stored wrongly (RFC 9110 §14.4).
  if (req.fields.has('content-range')) return { status: 400, headers: TEXT_PLAIN, body: 'Content-Range is not allowed in an upload\n' };
  const coding = req.fields.get('content-encoding');
  if (coding !== undefined && coding.trim().toLowerCase() !== 'identity') {
    // Stored bytes are the representation as sent; say what we accept (RFC 9110 §15.5.16).
    return { status: 415, headers: { 'Accept-Encoding': 'identity', ...TEXT_PLAIN }, body: 'content codings are not accepted in uploads\n' };
  }

  let p: Opened | Response;
  try {
    p = await start(root(), segments, req);
  } catch (e) {
    throw diskError(e);
  }
  if (!('fd' in p)) return p;
  const { file, temp, fd, created } = p;
  let committed = false;
  try {
    let validators: Validators;
    try {
      await receive(req.body.stream(), fd);
      // Durable before it becomes visible: a crash after the rename must not
      // leave an empty file where the old one was.
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
      validators = fileValidators(fs.fstatSync(fd)); // the rename keeps inode, size and mtime
    } finally {
      fs.closeSync(fd);
    }
    const replaced = await exclusive(file, place.lockAcrossProcesses, async () => {
      const cur = current(root(), file);
      checkPreconditions(req, cur); // again: another request may have changed it meanwhile
      await fs.promises.rename(temp, file);
      committed = true;
      return cur.exists;
    });
    const status = req.method === 'POST' || !replaced ? 201 : 204;
    return { status, headers: { ETag: validators.etag } };
  } catch (e) {
    if (!committed) {
      await fs.promises.unlink(temp).catch(() => undefined);
      await removeFolders(created);
    }
    throw diskError(e);
  }
}

/**
 * Finds (or creates) the folders of an upload's target, checks the
 * preconditions once before anything is created, and opens a new
 * temporary file next to the target. A folder that vanishes on the way
 * (a failed upload removing what it made) is looked for again.
 * @returns the open temporary file, or the response refusing the upload
 *   (404 when a parent leads outside the directory).
 * @throws HttpError 409 (a parent is a file), 405 (the name is a folder),
 *   412; file-system errors.
 */
async function start(root: string, segments: readonly string[], req: Request): Promise<Opened | Response> {
  const parents = segments.slice(0, -1);
  const name = segments[segments.length - 1]!;
  for (let attempt = 1; ; attempt++) {
    const w = walk(root, parents);
    if (w.kind === 'outside') return NO_FOLDER;
    if (w.kind === 'file') throw new HttpError(409, `${w.name} is a file, not a folder`, false);
    // Fail early, before creating anything or asking for the content (no 100 Continue is sent).
    if (attempt === 1) checkPreconditions(req, w.kind === 'found' ? current(root, path.join(w.folder, name)) : ABSENT);
    const created: string[] = [];
    try {
      const folder = w.kind === 'found' ? w.folder : await makeFolders(root, w.folder, w.missing, created);
      const temp = path.join(folder, tempName());
      const fd = await new Promise<number>((resolve, reject) =>
        fs.open(temp, 'wx', 0o666, (err, fd) => (err ? reject(err) : resolve(fd))),
      );
      return { file: path.join(folder, name), temp, fd, created };
    } catch (e) {
      await removeFolders(created);
      // ENOENT: a folder on the way was removed meanwhile; EEXIST (from open): the temporary name was taken.
      const again = errno(e) === 'ENOENT' || errno(e) === 'EEXIST';
      if (!again || attempt === ATTEMPTS) throw e;
    }
  }
}

/** Content gathered before a write is issued (fewer, larger writes). */
const WRITE_AT = 64 * 1024;
/** Content held while a write is in flight before reading pauses (back-pressure). */
const HOLD_MAX = 512 * 1024;

/**
 * Streams the request content into the open file `fd`, gathering chunks
 * into one `writev` of at least {@link WRITE_AT} bytes (or the rest) at a
 * time, one write in flight. Settles only once no write is in flight, so
 * the caller may close `fd` right away.
 * @throws HttpError 400 when the content does not arrive completely (the
 *   connection has then already answered or closed); write errors.
 */
function receive(body: Readable, fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let writing = false;
    let paused = false;
    let ended = false;
    let failure: unknown = null;
    let settled = false;

    const settle = () => {
      if (settled || writing) return; // a write in flight still uses fd
      settled = true;
      body.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
      if (failure === null) return resolve();
      if (!ended) body.destroy(); // stop reading; the connection answers and closes
      reject(failure);
    };
    const fail = (e: unknown) => {
      failure ??= e;
      settle();
    };
    const flush = () => {
      if (writing || settled) return;
      if (failure !== null || (ended && pendingBytes === 0)) return settle();
      if (pendingBytes < WRITE_AT && !ended) return;
      const bufs = pending;
      pending = [];
      pendingBytes = 0;
      writing = true;
      writeAll(fd, bufs, (err) => {
        writing = false;
        if (err !== null) return fail(err);
        flush();
        if (paused) {
          paused = false;
          body.resume();
        }
      });
    };
    const onData = (chunk: Buffer) => {
      pending.push(chunk);
      pendingBytes += chunk.length;
      if (pendingBytes >= HOLD_MAX && !paused) {
        paused = true;
        body.pause();
      }
      flush();
    };
    const onEnd = () => {
      ended = true;
      flush();
    };
    const onError = (e: Error) => fail(new HttpError(400, `request content incomplete: ${e.message}`));
    const onClose = () => {
      if (!ended) fail(new HttpError(400, 'request content incomplete'));
    };
    // Aborted before we got here (client gone while the folder was made): no event will come.
    if (body.destroyed) return reject(new HttpError(400, `request content incomplete: ${body.errored?.message ?? 'aborted'}`));
    body.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
  });
}

/** Writes all of `bufs` at the file position of `fd`, continuing after a short write. */
function writeAll(fd: number, bufs: Buffer[], done: (err: Error | null) => void): void {
  fs.writev(fd, bufs, (err, written) => {
    if (err !== null) return done(err);
    let rest = bufs;
    let n = written;
    while (rest.length > 0 && n >= rest[0]!.length) {
      n -= rest[0]!.length;
      rest = rest.slice(1);
    }
    if (rest.length === 0) return done(null);
    writeAll(fd, [rest[0]!.subarray(n), ...rest.slice(1)], done);
  });
}

// ---- DELETE ----------------------------------------------------------------------------

async function remove(place: Place, req: Request): Promise<Response> {
  const root = place.root;
  const segments = requestedSegments(req, place);
  if (!Array.isArray(segments)) return segments;
  const notFound: Response = { status: 404, headers: TEXT_PLAIN, body: 'no such file\n' };
  try {
    const r = root();
    const w = walk(r, segments.slice(0, -1));
    if (w.kind !== 'found') return notFound;
    const file = path.join(w.folder, segments[segments.length - 1]!);
    // Nothing to delete: say so without taking the lock (which needs write access to the folder).
    if (current(r, file).validators === null) return notFound;
    return await exclusive(file, place.lockAcrossProcesses, async () => {
      const cur = current(r, file);
      // Only what a read would serve can be deleted: not a link that leads outside.
      if (cur.validators === null) return notFound;
      checkPreconditions(req, cur);
      await fs.promises.unlink(file); // a symlink is removed, never what it points to
      return { status: 204 };
    });
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (errno(e) === 'ENOENT' || errno(e) === 'ENOTDIR') return notFound;
    throw diskError(e);
  }
}
