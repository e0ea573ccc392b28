/**
 * One file as an HTTP response (RFC 9110): its media type, validators
 * (§8.8), conditional requests (§13), ranges (§14) and content coding
 * (§8.4, §12.5.3), precompressed siblings included. Shared by `/files/`
 * (`--directory`) and the site at `/` (`--root`).
 *
 * The order follows RFC 9110 §13.2.2: choose the representation (coding)
 * first, since validators belong to a representation; then preconditions;
 * then `If-Range` and `Range`, which apply to the identity coding only.
 * The file is streamed with back-pressure and opened only when content is
 * really sent: `HEAD` and `304` never open it.
 */

import { type Stats, createReadStream } from 'node:fs';
import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable, Transform, pipeline } from 'node:stream';
import mime from 'mime-types';
import { type Validators, evaluatePreconditions, fileValidators, formatHttpDate } from '../http/conditional.js';
import { negotiateContentCoding } from '../http/content-coding.js';
import { contentRange, evaluateRange, ifRangeMatches, multipartByteranges, unsatisfiedRange } from '../http/range.js';
import type { Request } from '../http/request.js';
import type { HeaderFields, Response, StreamBody } from '../http/response.js';
import { SUPPORTED_CODINGS, encode, encodeStream, isCompressible } from '../http/codecs.js';

/** Files up to this size (bytes) are coded in memory and sent with `Content-Length`; larger ones are coded as a stream. */
export const CODE_IN_MEMORY_MAX = 64 * 1024;

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

/** A precompressed sibling that may be sent instead of the file. */
interface Sibling {
  readonly coding: string;
  readonly file: string;
  readonly stats: Stats;
}

/**
 * Existing precompressed siblings (`name.br`, `name.gz`): regular files,
 * not symlinks (so they cannot lead outside the served directory), and not
 * older than the file itself (a stale sibling would send old content).
 */
async function findSiblings(file: string, st: Stats): Promise<Sibling[]> {
  const found = await Promise.all(
    SIBLINGS.map(async ({ coding, suffix }): Promise<Sibling | null> => {
      try {
        const s = await lstat(file + suffix);
        return s.isFile() && s.mtimeMs >= st.mtimeMs ? { coding, file: file + suffix, stats: s } : null;
      } catch {
        return null;
      }
    }),
  );
  return found.filter((s): s is Sibling => s !== null);
}

/** A read stream of `file` that fails, instead of ending early, if it yields fewer than `length` bytes (the file shrank). */
function readExactly(file: string, start: number, length: number): Readable {
  // An empty file has no byte range to read (end would be start - 1, which createReadStream rejects).
  if (length === 0) return Readable.from([]);
  const source = createReadStream(file, { start, end: start + length - 1 });
  let seen = 0;
  const guard = new Transform({
    transform(chunk: Buffer, _enc, done) {
      seen += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      done(seen < length ? new Error(`${file} shrank while being sent`) : null);
    },
  });
  return pipeline(source, guard, () => undefined);
}

/** `"tag"` → `"tag-gzip"`: a coded representation is another representation with its own validator (RFC 9110 §8.8.3). */
function codedTag(etag: string, coding: string): string {
  return `${etag.slice(0, -1)}-${coding}"`;
}

function validatorFields(v: Validators): HeaderFields {
  return { ETag: v.etag, 'Last-Modified': formatHttpDate(v.lastModified) };
}

/**
 * Answers a `GET` or `HEAD` for a regular file.
 * @param req the request (method, `Accept-Encoding`, conditionals, `Range`).
 * @param file absolute path of a regular file the caller has checked is
 *   inside the served directory.
 * @param st the file's `stat`.
 * @param name the name the request used (its extension gives the media
 *   type, even when `file` is a symlink's target); defaults to `file`.
 * @returns 200, 206, 304, 406, 412 or 416 (RFC 9110 §15).
 */
export async function fileResponse(req: Request, file: string, st: Stats, name = file): Promise<Response> {
  const contentType = contentTypeFor(name);
  const compressible = isCompressible(contentType);
  const siblings = await findSiblings(file, st);
  const varies = compressible || siblings.length > 0;
  const available = [...siblings.map((s) => s.coding), ...(compressible ? SUPPORTED_CODINGS : [])];
  const acceptEncoding = req.fields.get('accept-encoding');
  const rangeField = req.method === 'GET' ? req.fields.get('range') : undefined;

  // A Range request is served from the identity representation when the client accepts it.
  let coding: string | null = null;
  if (rangeField !== undefined) coding = negotiateContentCoding(acceptEncoding, []);
  if (coding === null) coding = negotiateContentCoding(acceptEncoding, [...new Set(available)]);

  const headers: HeaderFields = { 'Content-Type': contentType };
  if (varies) headers['Vary'] = 'Accept-Encoding';
  if (coding === null) {
    return { status: 406, headers: { 'Content-Type': 'text/plain', Vary: 'Accept-Encoding' }, body: `no acceptable content-coding; available: ${[...available, 'identity'].join(', ')}\n`, codingNegotiated: true };
  }

  const sibling = siblings.find((s) => s.coding === coding);
  let validators = fileValidators(sibling?.stats ?? st);
  if (sibling === undefined && coding !== 'identity') validators = { ...validators, etag: codedTag(validators.etag, coding) };
  Object.assign(headers, validatorFields(validators));
  headers['Accept-Ranges'] = 'bytes';

  const outcome = evaluatePreconditions(req.method, req.fields, validators);
  if (outcome === 'not-modified') {
    const { 'Content-Type': _omit, ...rest } = headers;
    return { status: 304, headers: rest };
  }
  if (outcome === 'failed') return { status: 412, headers: validatorFields(validators) };

  if (coding !== 'identity') {
    headers['Content-Encoding'] = coding;
    if (sibling !== undefined) {
      return { status: 200, headers, body: { length: sibling.stats.size, open: () => readExactly(sibling.file, 0, sibling.stats.size) }, codingNegotiated: true };
    }
    if (req.method === 'GET' && st.size <= CODE_IN_MEMORY_MAX) {
      return { status: 200, headers, body: await encode(coding, await readFile(file)), codingNegotiated: true };
    }
    const c = coding;
    return { status: 200, headers, body: { open: () => pipeline(readExactly(file, 0, st.size), encodeStream(c), () => undefined) }, codingNegotiated: true };
  }

  const whole: StreamBody = { length: st.size, open: () => readExactly(file, 0, st.size) };
  if (rangeField === undefined) return { status: 200, headers, body: whole, codingNegotiated: true };
  const ifRange = req.fields.get('if-range');
  if (ifRange !== undefined && !ifRangeMatches(ifRange, validators)) return { status: 200, headers, body: whole, codingNegotiated: true };
  const range = evaluateRange(rangeField, st.size);
  if (range.kind === 'ignore') return { status: 200, headers, body: whole, codingNegotiated: true };
  if (range.kind === 'unsatisfiable') {
    return { status: 416, headers: { ...validatorFields(validators), 'Content-Range': unsatisfiedRange(st.size) } };
  }
  if (range.ranges.length === 1) {
    const r = range.ranges[0]!;
    const n = r.last - r.first + 1;
    headers['Content-Range'] = contentRange(r, st.size);
    return { status: 206, headers, body: { length: n, open: () => readExactly(file, r.first, n) }, codingNegotiated: true };
  }
  const multipart = multipartByteranges(range.ranges, st.size, contentType, (r) => readExactly(file, r.first, r.last - r.first + 1));
  headers['Content-Type'] = multipart.contentType;
  return { status: 206, headers, body: multipart.body, codingNegotiated: true };
}
