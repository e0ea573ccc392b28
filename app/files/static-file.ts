/**
 * One file as an HTTP response (RFC 9110): its media type, validators
 * (§8.8), conditional requests (§13), ranges (§14) and content coding
 * (§8.4, §12.5.3), precompressed siblings included. Shared by `/files/`
 * (`--directory`) and the site at `/` (`--root`).
 *
 * The order follows RFC 9110 §13.2.2: choose the representation (coding)
 * first, since validators belong to a representation; then preconditions;
 * then `If-Range` and `Range`, which apply to the identity coding only.
 *
 * Every response is built from one {@link FileEntry}: the `fstat` of an open
 * descriptor and, for a small file, the bytes read from that descriptor; a
 * larger file is streamed from the descriptor the head was built from. So
 * head and content always describe the same version of the file. `HEAD`
 * gets exactly the head `GET` would get (a coded variant is computed, and
 * kept, to know its length).
 */

import { fstat, type Stats } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { Readable, pipeline } from 'node:stream';
import mime from 'mime-types';
import { SUPPORTED_CODINGS, encode, encodeStream, isCompressible } from '../http/codecs.js';
import { type Validators, evaluatePreconditions, fileValidators, formatHttpDate } from '../http/conditional.js';
import { negotiateContentCoding, notAcceptableResponse } from '../http/content-coding.js';
import type { Fields } from '../http/fields.js';
import { contentRange, evaluateRange, ifRangeMatches, multipartByteranges, unsatisfiedRange } from '../http/range.js';
import type { Request } from '../http/request.js';
import type { HeaderFields, Response, StreamBody } from '../http/response.js';
import { type FileCache, type FileEntry, type FileIdentity, type SiblingState, identityOf, isRacy, sameVersion } from './file-cache.js';
import { FileStream, type OpenedFile, SharedFd, closeFd, fileStream, openInside, readWhole } from './open-file.js';

/** Without a cache, files up to this size (bytes) are still read whole, so a coded variant carries `Content-Length`. */
const READ_WHOLE_UNCACHED = 64 * 1024;

const OCTET_STREAM = 'application/octet-stream';

/** Precompressed siblings looked for next to a file, in the server's order of preference. */
const SIBLINGS = [
  { coding: 'br', suffix: '.br' },
  { coding: 'gzip', suffix: '.gz' },
] as const;

/**
 * The `Content-Type` for a file name from its extension (mime-db table):
 * text types get `; charset=utf-8`; a name without a known extension is
 * `application/octet-stream` (as stage ap6 requires). A bare name such as
 * `json` has no extension.
 */
export function contentTypeFor(fileName: string): string {
  const ext = path.extname(fileName);
  if (ext.length <= 1) return OCTET_STREAM;
  const type = mime.lookup(ext);
  if (type === false) return OCTET_STREAM;
  return mime.contentType(type) || type;
}

/** Thrown when a cached entry turned out stale while answering: the caller looks the file up again. */
export class StaleEntry extends Error {
  constructor() {
    super('the file changed while it was being answered');
  }
}

const fstatAsync = (fd: number) =>
  new Promise<Stats>((resolve, reject) => fstat(fd, (err, st) => (err ? reject(err) : resolve(st))));

// ---- building an entry ------------------------------------------------------------------

/** A freshly read entry, and whether the cache may keep it. */
export interface LoadedFile {
  readonly entry: FileEntry;
  /** The descriptor, still open, when the content was not read into memory; the caller owns it. */
  readonly fd: number | null;
  /** False when the file or a sibling changed too recently to trust its times (see RACY_MS). */
  readonly settled: boolean;
}

/**
 * Builds the entry for an opened regular file: validators and media type
 * from its descriptor, its bytes when small (then the descriptor is
 * closed), and the state of its `.br`/`.gz` siblings.
 * @param key the cache key.
 * @param opened the file, opened inside the served directory (ownership passes here).
 * @param name the name the request used (its extension gives the media type).
 * @param folders folders below the served directory on the way to the file.
 * @throws file-system errors (the descriptor is closed first).
 */
export async function loadFile(key: string, opened: OpenedFile, name: string, folders: readonly string[], cache: FileCache): Promise<LoadedFile> {
  const readAt = Date.now();
  const identity = identityOf(opened.stats);
  let settled = !isRacy(identity, readAt);
  let fd: number | null = opened.fd;
  let content: Buffer | null = null;
  const readMax = cache.enabled ? cache.maxFileSize : READ_WHOLE_UNCACHED;
  try {
    if (identity.size <= readMax) {
      content = await readWhole(opened.fd, identity.size);
      // Written to in place while we read: serve it, but do not keep it.
      if (!sameVersion(await fstatAsync(opened.fd), identity)) settled = false;
      closeFd(opened.fd);
      fd = null;
    }
  } catch (e) {
    closeFd(opened.fd);
    throw e;
  }
  const siblings = await Promise.all(SIBLINGS.map((s) => loadSibling(s.coding, opened.real + s.suffix, identity, readMax)));
  for (const s of siblings) if (s.identity !== null && isRacy(s.identity, readAt)) settled = false;
  const contentType = contentTypeFor(name);
  const compressible = isCompressible(contentType);
  const codings: string[] = [];
  for (const s of siblings) if (s.identity !== null) codings.push(s.coding);
  if (compressible) for (const c of SUPPORTED_CODINGS) if (!codings.includes(c)) codings.push(c);
  const entry: FileEntry = {
    key,
    file: opened.real,
    folders,
    identity,
    validators: fileValidators(identity),
    contentType,
    compressible,
    content,
    siblings,
    codings,
    variants: new Map(),
    fields: new Map(),
    plain: null,
    bytes: 0,
  };
  if (content !== null) entry.plain = Object.freeze({ status: 200, headers: fieldsFor(entry, 'identity', undefined), body: content, codingNegotiated: true });
  return { entry, fd, settled };
}

/**
 * A sibling's state: usable when a regular file (not a symlink, so it
 * cannot lead outside) not older than the file (a stale one would send old
 * content); its bytes read when small.
 */
async function loadSibling(coding: string, file: string, of: FileIdentity, readMax: number): Promise<SiblingState> {
  const none: SiblingState = { coding, path: file, identity: null, validators: null, content: null };
  const st = await lstat(file).catch(() => null);
  if (st === null || !st.isFile() || st.mtimeMs < of.mtimeMs) return none;
  const identity = identityOf(st);
  let content: Buffer | null = null;
  if (st.size <= readMax) {
    const opened = await openInside(file, (p) => p === file).catch(() => null);
    if (opened === null) return none;
    try {
      // Changing under us: not used this time; the next request sees it differ and reloads.
      if (!sameVersion(opened.stats, identity)) return none;
      content = await readWhole(opened.fd, st.size);
    } catch {
      return none;
    } finally {
      closeFd(opened.fd);
    }
  }
  return { coding, path: file, identity, validators: fileValidators(identity), content };
}

// ---- answering ----------------------------------------------------------------------

/** `"tag"` → `"tag-gzip"`: a coded representation is another representation with its own validator (RFC 9110 §8.8.3). */
function codedTag(etag: string, coding: string): string {
  return `${etag.slice(0, -1)}-${coding}"`;
}

function validatorFields(v: Validators): HeaderFields {
  return { ETag: v.etag, 'Last-Modified': formatHttpDate(v.lastModified) };
}

/** The usable sibling for `coding`, if any. */
function siblingFor(entry: FileEntry, coding: string): SiblingState | undefined {
  for (const s of entry.siblings) if (s.coding === coding && s.identity !== null) return s;
  return undefined;
}

/** Validators of the representation with `coding` (a sibling's own, or the file's with the coding in the tag). */
function validatorsFor(entry: FileEntry, coding: string, sibling: SiblingState | undefined): Validators {
  if (sibling !== undefined) return sibling.validators!;
  if (coding === 'identity') return entry.validators;
  return { ...entry.validators, etag: codedTag(entry.validators.etag, coding) };
}

/** The 200 header fields of one representation, frozen and kept in the entry. */
function fieldsFor(entry: FileEntry, coding: string, sibling: SiblingState | undefined): HeaderFields {
  let f = entry.fields.get(coding);
  if (f === undefined) {
    const v = validatorsFor(entry, coding, sibling);
    const h: HeaderFields = { 'Content-Type': entry.contentType };
    if (entry.codings.length > 0) h['Vary'] = 'Accept-Encoding'; // another representation exists
    if (coding !== 'identity') h['Content-Encoding'] = coding;
    Object.assign(h, validatorFields(v));
    h['Accept-Ranges'] = 'bytes';
    f = Object.freeze(h);
    entry.fields.set(coding, f);
  }
  return f;
}

/** The 304 header fields of one representation: the 200's without `Content-Type` (RFC 9110 §15.4.5). */
function notModifiedFields(entry: FileEntry, coding: string, sibling: SiblingState | undefined): HeaderFields {
  const key = `304 ${coding}`;
  let f = entry.fields.get(key);
  if (f === undefined) {
    const { 'Content-Type': _omit, ...rest } = fieldsFor(entry, coding, sibling);
    f = Object.freeze(rest);
    entry.fields.set(key, f);
  }
  return f;
}

/** True when no field can change the answer to a GET: no precondition, no `Range`, no `Accept-Encoding`. */
function isPlain(fields: Fields): boolean {
  const names = fields.names;
  for (let i = 0; i < names.length; i++) {
    const n = names[i]!;
    if (n === 'range' || n === 'accept-encoding' || (n.charCodeAt(0) === 105 /* i */ && n.startsWith('if-'))) return false;
  }
  return true;
}

/** A body streamed from a shared descriptor; the descriptor is let go once, whether the body is sent or dropped. */
function descriptorBody(fd: SharedFd, length: number | undefined, open: (done: () => void) => Readable): StreamBody {
  let done = false;
  let stream: Readable | null = null;
  const letGo = () => {
    if (done) return;
    done = true;
    fd.release();
  };
  return {
    length,
    open: () => (stream = open(letGo)),
    release: letGo,
    // Chunks of a plain file stream are read into again once the socket is done with them.
    recycle: (chunk) => {
      if (stream instanceof FileStream) stream.recycle(chunk);
    },
  };
}

/**
 * Answers a `GET` or `HEAD` from a file's entry.
 * @param req the request (method, `Accept-Encoding`, conditionals, `Range`).
 * @param entry the file's entry, checked fresh by the caller (siblings too when `Accept-Encoding` is present).
 * @param cache where the entry's coded variants are counted.
 * @param fd an open descriptor of exactly the entry's version when its
 *   content is not in memory (ownership passes here), else `null`.
 * @returns 200, 206, 304, 406, 412 or 416 (RFC 9110 §15); synchronously
 *   when everything needed is in memory.
 * @throws StaleEntry when a large sibling changed since the entry was read.
 */
export function fileResponse(req: Request, entry: FileEntry, cache: FileCache, fd: number | null): Response | Promise<Response> {
  if (entry.plain !== null && isPlain(req.fields)) return entry.plain;
  const shared = fd === null ? null : new SharedFd(fd);
  try {
    const res = answer(req, entry, cache, shared);
    if (res instanceof Promise) return res.finally(() => shared?.release());
    shared?.release();
    return res;
  } catch (e) {
    shared?.release();
    throw e;
  }
}

/**
 * The answer proper. Every body that reads `fd` retains it first; the
 * caller releases its own hold when this returns.
 */
function answer(req: Request, entry: FileEntry, cache: FileCache, fd: SharedFd | null): Response | Promise<Response> {
  const fields = req.fields;
  const size = entry.identity.size;
  const acceptEncoding = fields.get('accept-encoding');
  const rangeField = req.method === 'GET' ? fields.get('range') : undefined;
  const available = entry.codings;

  // A Range request is served from the identity representation when the client accepts it.
  let coding: string | null = null;
  if (rangeField !== undefined) coding = negotiateContentCoding(acceptEncoding, []);
  if (coding === null) coding = negotiateContentCoding(acceptEncoding, available);
  if (coding === null) return notAcceptableResponse(available);

  const sibling = coding === 'identity' ? undefined : siblingFor(entry, coding);
  const validators = validatorsFor(entry, coding, sibling);
  const outcome = evaluatePreconditions(req.method, fields, validators);
  if (outcome === 'not-modified') return { status: 304, headers: notModifiedFields(entry, coding, sibling), codingNegotiated: true };
  if (outcome === 'failed') return { status: 412, headers: validatorFields(validators), codingNegotiated: true };
  const headers = fieldsFor(entry, coding, sibling);

  if (coding !== 'identity') {
    if (sibling !== undefined) return siblingResponse(headers, sibling);
    if (entry.content !== null) {
      const variant = variantOf(entry, coding, cache);
      if (Buffer.isBuffer(variant)) return { status: 200, headers, body: variant, codingNegotiated: true };
      return variant.then((body) => ({ status: 200, headers, body, codingNegotiated: true }));
    }
    // Too large to keep: coded as it is sent, so its length is unknown (chunked).
    const c = coding;
    fd!.retain();
    const body = descriptorBody(fd!, undefined, (done) => pipeline(fileStream(fd!.fd, 0, size, done), encodeStream(c), () => undefined));
    return { status: 200, headers, body, codingNegotiated: true };
  }

  const whole = (): Response => {
    if (entry.content !== null) return { status: 200, headers, body: entry.content, codingNegotiated: true };
    fd!.retain();
    return { status: 200, headers, body: descriptorBody(fd!, size, (done) => fileStream(fd!.fd, 0, size, done)), codingNegotiated: true };
  };
  if (rangeField === undefined) return whole();
  const ifRange = fields.get('if-range');
  if (ifRange !== undefined && !ifRangeMatches(ifRange, validators)) return whole();
  const range = evaluateRange(rangeField, size);
  if (range.kind === 'ignore') return whole();
  if (range.kind === 'unsatisfiable') {
    return { status: 416, headers: { ...validatorFields(validators), 'Content-Range': unsatisfiedRange(size) }, codingNegotiated: true };
  }
  const content = entry.content;
  if (range.ranges.length === 1) {
    const r = range.ranges[0]!;
    const n = r.last - r.first + 1;
    const h = { ...headers, 'Content-Range': contentRange(r, size) };
    if (content !== null) return { status: 206, headers: h, body: content.subarray(r.first, r.last + 1), codingNegotiated: true };
    fd!.retain();
    return { status: 206, headers: h, body: descriptorBody(fd!, n, (done) => fileStream(fd!.fd, r.first, n, done)), codingNegotiated: true };
  }
  const multipart = multipartByteranges(range.ranges, size, entry.contentType, (r) =>
    content !== null ? Readable.from([content.subarray(r.first, r.last + 1)]) : fileStream(fd!.fd, r.first, r.last - r.first + 1, () => undefined),
  );
  let body: StreamBody = multipart.body;
  if (content === null) {
    fd!.retain();
    const inner = multipart.body;
    body = descriptorBody(fd!, inner.length, (done) => inner.open().once('close', done));
  }
  return { status: 206, headers: { ...headers, 'Content-Type': multipart.contentType }, body, codingNegotiated: true };
}

/** A sibling's bytes: from memory, or streamed from a descriptor checked to be the version the entry recorded. */
function siblingResponse(headers: HeaderFields, sibling: SiblingState): Response | Promise<Response> {
  if (sibling.content !== null) return { status: 200, headers, body: sibling.content, codingNegotiated: true };
  return openInside(sibling.path, (p) => p === sibling.path).then((opened) => {
    if (opened === null) throw new StaleEntry();
    if (!sameVersion(opened.stats, sibling.identity!)) {
      closeFd(opened.fd);
      throw new StaleEntry();
    }
    const fd = new SharedFd(opened.fd);
    const n = sibling.identity!.size;
    return { status: 200, headers, body: descriptorBody(fd, n, (done) => fileStream(fd.fd, 0, n, done)), codingNegotiated: true };
  });
}

/** The coded variant of a small file: computed once on the thread pool, then kept in the entry. */
function variantOf(entry: FileEntry, coding: string, cache: FileCache): Buffer | Promise<Buffer> {
  const known = entry.variants.get(coding);
  if (known !== undefined) return known;
  const pending = encode(coding, entry.content!).then(
    (coded) => {
      entry.variants.set(coding, coded);
      cache.grow(entry, coded.length);
      return coded;
    },
    (e: unknown) => {
      entry.variants.delete(coding);
      throw e;
    },
  );
  entry.variants.set(coding, pending);
  return pending;
}
