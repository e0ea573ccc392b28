/**
 * Stages df4 "Compression headers", ij8 "Multiple compression schemes" and
 * cr8 "Gzip compression": a response filter that applies a content-coding
 * the client accepts (RFC 9110 §8.4, §12.5.3).
 *
 * `Accept-Encoding` is negotiated as the weighted list it is; gzip is
 * preferred on ties, then br and deflate. Only successful (2xx) responses
 * that carry content of a compressible media type (per the mime-db table)
 * are coded, whatever their size: the stages want even a 3-byte echo
 * gzipped. Such responses carry `Vary: Accept-Encoding` whether or not
 * they were coded, so caches keep the variants apart; when the client
 * accepts no coding at all, identity included, they become 406.
 *
 * Every other response is sent as the handler built it: an error (405 with
 * its `Allow`, 415, 501) is not content the client negotiated for, so it
 * must never turn into a 406 (RFC 9110 §12.1 applies proactive negotiation
 * to the selected representation). Partial content (206) is left alone too.
 *
 * A handler that negotiates the coding itself (static files, which also
 * serve precompressed siblings and ranges) says so with
 * `Response.codingNegotiated`; the filter leaves such responses alone.
 * That flag alone decides: a `Vary` field is not a signal.
 */

import { pipeline } from 'node:stream';
import { negotiateContentCoding } from '../app/http/content-coding.js';
import type { Request } from '../app/http/request.js';
import { type HeaderFields, type Response, TEXT_PLAIN, isStreamBody, releaseBody } from '../app/http/response.js';
import type { ResponseFilter } from '../app/http/router.js';
import { SUPPORTED_CODINGS, encodeStream, encodeSync, isCompressible } from '../app/http/codecs.js';

/** A `Vary` value that already lists `Accept-Encoding` (or `*`). */
const VARIES_ON_CODING = /(^|,)\s*(accept-encoding|\*)\s*(,|$)/i;

/** The `Vary` value with `Accept-Encoding` added (kept as is when already listed or `*`). */
export function varyWithAcceptEncoding(vary: string | undefined): string {
  if (vary === undefined || vary.trim() === '') return 'Accept-Encoding';
  return VARIES_ON_CODING.test(vary) ? vary : `${vary}, Accept-Encoding`;
}

function fieldOf(headers: Record<string, string>, name: string): string | undefined {
  for (const k in headers) if (k.toLowerCase() === name) return headers[k];
  return undefined;
}

/** Adds `Accept-Encoding` to `Vary`, keeping what is there. */
function addVary(headers: Record<string, string>): void {
  for (const k in headers) {
    if (k.toLowerCase() === 'vary') {
      headers[k] = varyWithAcceptEncoding(headers[k]);
      return;
    }
  }
  headers['Vary'] = 'Accept-Encoding';
}

/**
 * The response's header fields with `Vary: Accept-Encoding` added when the
 * filter may code its content; `null` when it must leave the response
 * alone (incompressible type, or already coded).
 */
function codableFields(headers: HeaderFields): HeaderFields | null {
  if (!isCompressible(fieldOf(headers, 'content-type')) || fieldOf(headers, 'content-encoding') !== undefined) return null;
  const out = { ...headers };
  addVary(out);
  return out;
}

/**
 * {@link codableFields} for frozen header objects, which handlers share
 * between responses (`/echo` answers with one constant): computed once per
 * object, so the common case costs one lookup and no copy.
 */
const codableCache = new WeakMap<HeaderFields, HeaderFields | null>();

// The last frozen object looked up, and its answer: one identity check for
// a run of responses from the same route.
let lastHeaders: HeaderFields | undefined;
let lastFields: HeaderFields | null = null;

function codableFieldsOf(headers: HeaderFields): HeaderFields | null {
  if (headers === lastHeaders) return lastFields;
  if (!Object.isFrozen(headers)) return codableFields(headers);
  let fields = codableCache.get(headers);
  if (fields === undefined) {
    fields = codableFields(headers);
    if (fields !== null) Object.freeze(fields);
    codableCache.set(headers, fields);
  }
  lastHeaders = headers;
  lastFields = fields;
  return fields;
}

/**
 * The compression filter. Codes only 2xx responses with content (206
 * excepted) whose type is compressible, not coded yet, and whose handler
 * did not set `codingNegotiated`; answers 406 for those alone when the
 * client accepts neither a supported coding nor identity. Returns every
 * other response unchanged.
 */
export const compression: ResponseFilter = (req: Request, res: Response): Response => {
  const headers = res.headers;
  const body = res.body;
  const status = res.status;
  if (status < 200 || status > 299 || status === 204 || status === 206 || body === undefined || headers === undefined || res.codingNegotiated === true) return res;
  const varied = codableFieldsOf(headers);
  if (varied === null) return res;
  const coding = negotiateContentCoding(req.fields.get('accept-encoding'), SUPPORTED_CODINGS);
  if (coding === null) {
    releaseBody(body);
    return { status: 406, headers: { ...TEXT_PLAIN, Vary: varied['Vary'] ?? 'Accept-Encoding' }, body: 'no acceptable content-coding\n' };
  }
  // Response has exactly these three members; built literally, not spread (hot path).
  if (coding === 'identity') return { status, headers: varied, body };
  const out = { ...varied, 'Content-Encoding': coding };
  if (isStreamBody(body)) {
    return { status, headers: out, body: { open: () => pipeline(body.open(), encodeStream(coding), () => undefined), release: () => body.release?.() } };
  }
  return { status, headers: out, body: encodeSync(coding, body) };
};
