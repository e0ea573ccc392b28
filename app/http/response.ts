/**
 * Responses as handlers build them, and their serialization to the wire
 * (RFC 9112 §4, §6).
 */

import type { Readable } from 'node:stream';
import { statusHasNoContent, statusLine } from './status.js';

/**
 * Content produced while it is sent: a file, a compressor's output.
 * `open` is called only when the body is really sent (never for `HEAD`),
 * so a file is not even opened to answer `HEAD`.
 */
export interface StreamBody {
  /** Length in bytes when known in advance; unknown lengths are sent
   *  chunked to HTTP/1.1 clients and close-delimited to HTTP/1.0 ones. */
  readonly length?: number;
  open(): Readable;
  /**
   * Called instead of {@link open} when the body will never be sent (a
   * `HEAD`, a response dropped because the connection closed first), so a
   * body holding a resource (an open file) can let it go. Optional.
   */
  release?(): void;
  /**
   * Called with each chunk of {@link open}'s stream once the socket is done
   * with it (its write callback), so a body may read into that memory again
   * instead of allocating: a few buffers per download rather than garbage
   * the collector must catch up with. Optional.
   */
  recycle?(chunk: Buffer): void;
}

/** Lets go of a body that will not be sent (see {@link StreamBody.release}). */
export function releaseBody(body: Body | undefined): void {
  if (body !== undefined && isStreamBody(body)) body.release?.();
}

/** Response content: bytes, UTF-8 text, or a stream. */
export type Body = Buffer | string | StreamBody;

/** Header fields to send, field-name → field-value, names as written. */
export type HeaderFields = Record<string, string>;

/**
 * A response a handler returns. The engine adds the framing fields
 * (`Content-Length` or `Transfer-Encoding`) and `Connection`; a handler
 * sets neither.
 */
export interface Response {
  status: number;
  headers?: HeaderFields;
  body?: Body;
  /**
   * The handler chose the content coding itself (proactive negotiation,
   * RFC 9110 §12.1, §12.5.3): the content is sent as given and no filter
   * codes it again. Such a handler sets `Vary: Accept-Encoding` itself.
   * This flag alone tells the compression filter (`stages/compression.ts`)
   * to leave the response alone; a `Vary` field is not a signal.
   */
  codingNegotiated?: boolean;
}

/**
 * `Content-Type: text/plain`, the header fields of every short message the
 * server writes itself (errors, echoes). Frozen, so the serializer caches
 * its field lines; spread it to add fields.
 */
export const TEXT_PLAIN: Readonly<HeaderFields> = Object.freeze({ 'Content-Type': 'text/plain' });

/** A request handler: may answer synchronously (the fast path) or later. */
export type Handler<Req> = (req: Req) => Response | Promise<Response>;

/** True when `body` is a {@link StreamBody}. */
export function isStreamBody(body: Body | undefined): body is StreamBody {
  return body !== undefined && typeof body !== 'string' && !Buffer.isBuffer(body);
}

/** The length in bytes of a non-stream body. */
export function bodyLength(body: Buffer | string | undefined): number {
  if (body === undefined) return 0;
  if (typeof body !== 'string') return body.length;
  // Short ASCII text (the common case) is counted here, sparing a native call.
  if (body.length <= 64) {
    let i = 0;
    while (i < body.length && body.charCodeAt(i) < 0x80) i++;
    if (i === body.length) return i;
  }
  return Buffer.byteLength(body);
}

/** How the engine delimits a response's content (RFC 9112 §6.3). */
export type ResponseFraming =
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' }
  | { readonly kind: 'none' };

/** The field lines for `headers`, each ending in CRLF. @throws Error on CR or LF in a value. */
function fieldLines(headers: HeaderFields): string {
  let lines = '';
  for (const name in headers) {
    const value = headers[name]!;
    if (value.indexOf('\r') !== -1 || value.indexOf('\n') !== -1) {
      throw new Error(`CR or LF in the value of response field ${name}`);
    }
    lines += `${name}: ${value}\r\n`;
  }
  return lines;
}

/**
 * Field lines of frozen header objects, which handlers share between
 * responses: serialized (and checked) once per object, not per response.
 */
const fieldLinesCache = new WeakMap<HeaderFields, string>();

function fieldLinesOf(headers: HeaderFields): string {
  if (!Object.isFrozen(headers)) return fieldLines(headers);
  let lines = fieldLinesCache.get(headers);
  if (lines === undefined) {
    lines = fieldLines(headers);
    fieldLinesCache.set(headers, lines);
  }
  return lines;
}

// The last status-line and frozen field lines serialized: consecutive
// responses of one route share them, so one identity check replaces the lookups.
let lastStatus = 0;
let lastHeaders: HeaderFields | undefined;
let lastPrefix = '';

/** Status-line and field lines of a response. */
function headPrefix(status: number, headers: HeaderFields | undefined): string {
  if (headers === undefined) return statusLine(status);
  if (headers === lastHeaders && status === lastStatus) return lastPrefix;
  const prefix = statusLine(status) + fieldLinesOf(headers);
  if (Object.isFrozen(headers)) {
    lastStatus = status;
    lastHeaders = headers;
    lastPrefix = prefix;
  }
  return prefix;
}

/** `Content-Length` lines for small lengths, built once. */
const CONTENT_LENGTH_LINES: string[] = [];

function contentLengthLine(length: number): string {
  if (length >= 1024) return `Content-Length: ${length}\r\n`;
  return (CONTENT_LENGTH_LINES[length] ??= `Content-Length: ${length}\r\n`);
}

/**
 * Serializes the status-line and header section, framing fields and
 * `Connection` included, ending with the empty line.
 * @param close send `Connection: close`.
 * @param keepAlive10 send `Connection: keep-alive` (an HTTP/1.0 client
 *   that asked to keep the connection, RFC 9112 §9.3).
 * @returns the head as a latin1 string.
 * @throws Error if a field-value contains CR or LF (header injection).
 */
export function serializeHead(
  status: number,
  headers: HeaderFields | undefined,
  framing: ResponseFraming,
  close: boolean,
  keepAlive10: boolean,
): string {
  const length = framing.kind === 'length' ? framing.length : -1;
  const flags = (close ? 1 : 0) | (keepAlive10 ? 2 : 0);
  if (length !== -1 && headers === lastHeadHeaders && status === lastHeadStatus && length === lastHeadLength && flags === lastHeadFlags) {
    return lastHead;
  }
  let head = headPrefix(status, headers);
  if (framing.kind === 'length') {
    if (!statusHasNoContent(status)) head += contentLengthLine(framing.length);
  } else if (framing.kind === 'chunked') {
    head += 'Transfer-Encoding: chunked\r\n';
  }
  if (close) head += 'Connection: close\r\n';
  else if (keepAlive10) head += 'Connection: keep-alive\r\n';
  head += '\r\n';
  if (length !== -1 && headers !== undefined && Object.isFrozen(headers)) {
    lastHeadStatus = status;
    lastHeadHeaders = headers;
    lastHeadLength = length;
    lastHeadFlags = flags;
    lastHead = head;
  }
  return head;
}

// The last whole head built from frozen header fields: a run of equal
// responses (an echo of the same text) reuses one string, flattened once.
let lastHeadStatus = 0;
let lastHeadHeaders: HeaderFields | undefined;
let lastHeadLength = -1;
let lastHeadFlags = -1;
let lastHead = '';

/**
 * Head and content in one Buffer, so that a small response leaves in one
 * write (and one TCP segment).
 */
export function joinHeadAndBody(head: string, body: Buffer | string | undefined): Buffer {
  const headLength = head.length;
  if (body === undefined) return Buffer.from(head, 'latin1');
  const bodyBytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const out = Buffer.allocUnsafe(headLength + bodyBytes);
  out.write(head, 0, 'latin1');
  if (typeof body === 'string') out.write(body, headLength, 'utf8');
  else body.copy(out, headLength);
  return out;
}

/** The chunk-size line preceding a chunk of `n` bytes (RFC 9112 §7.1). */
export function chunkHeader(n: number): string {
  return `${n.toString(16)}\r\n`;
}

/** The last-chunk and empty trailer section that end a chunked body. */
export const LAST_CHUNK = '0\r\n\r\n';
