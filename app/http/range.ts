/**
 * Range requests over bytes (RFC 9110 §14): parsing `Range`, deciding
 * satisfiability, `Content-Range`, `If-Range`, and `multipart/byteranges`
 * content. No I/O: the caller supplies a function that opens a range.
 */

import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { StreamBody } from './response.js';
import { type Validators, parseHttpDate } from './conditional.js';
import { splitList, trimOWS } from './grammar.js';

/** One satisfiable byte range, both ends inclusive, in bytes from 0. */
export interface ByteRange {
  readonly first: number;
  readonly last: number;
}

/**
 * What a `Range` field asks of a representation of a given length:
 * - `ignore`: answer 200 with the whole representation (no field, another
 *   unit, an invalid ranges-specifier, or too many ranges; §14.2);
 * - `unsatisfiable`: answer 416 with `Content-Range: bytes *\/length` (§15.5.17);
 * - `ranges`: answer 206 with these ranges, sorted and coalesced (§14.2, §15.3.7).
 */
export type RangeOutcome =
  | { readonly kind: 'ignore' }
  | { readonly kind: 'unsatisfiable' }
  | { readonly kind: 'ranges'; readonly ranges: readonly ByteRange[] };

/** More range-specs than this in one field is treated as abuse and ignored (§14.2). */
export const MAX_RANGES = 100;

const IGNORE: RangeOutcome = { kind: 'ignore' };
const UNSATISFIABLE: RangeOutcome = { kind: 'unsatisfiable' };
const DIGITS = /^[0-9]+$/;

/**
 * Evaluates a `Range` field value against a representation of `length`
 * bytes (RFC 9110 §14.1.1–§14.1.2, §14.2). Byte positions beyond the end
 * are clamped; a suffix longer than the representation means all of it;
 * unsatisfiable range-specs are dropped; overlapping or adjacent ranges are
 * merged. A zero-length representation satisfies no int-range, and a
 * suffix-range of it is answered with the whole (empty) representation.
 * @param value the field value, e.g. `"bytes=0-99, -500"`.
 * @param length the representation's length in bytes.
 */
export function evaluateRange(value: string, length: number): RangeOutcome {
  const eq = value.indexOf('=');
  if (eq === -1) return IGNORE;
  if (trimOWS(value.slice(0, eq)).toLowerCase() !== 'bytes') return IGNORE; // unknown range unit
  const specs = splitList(value.slice(eq + 1));
  if (specs.length === 0 || specs.length > MAX_RANGES) return IGNORE;
  const ranges: ByteRange[] = [];
  let suffixOfEmpty = false;
  for (const spec of specs) {
    const dash = spec.indexOf('-');
    if (dash === -1) return IGNORE;
    const a = spec.slice(0, dash);
    const b = spec.slice(dash + 1);
    if (a === '') {
      // suffix-range: the last `b` bytes (§14.1.1).
      if (!DIGITS.test(b)) return IGNORE;
      const n = Number(b);
      if (n === 0) continue; // unsatisfiable
      if (length === 0) suffixOfEmpty = true;
      else ranges.push({ first: Math.max(0, length - n), last: length - 1 });
      continue;
    }
    if (!DIGITS.test(a) || (b !== '' && !DIGITS.test(b))) return IGNORE;
    const first = Number(a);
    const last = b === '' ? Infinity : Number(b);
    if (last < first) return IGNORE; // invalid int-range makes the whole field invalid
    if (first >= length) continue; // unsatisfiable
    ranges.push({ first, last: Math.min(last, length - 1) });
  }
  if (ranges.length === 0) return suffixOfEmpty ? IGNORE : UNSATISFIABLE;
  return { kind: 'ranges', ranges: coalesce(ranges) };
}

/** Sorts ranges and merges those that overlap or touch. */
function coalesce(ranges: ByteRange[]): ByteRange[] {
  if (ranges.length === 1) return ranges;
  const sorted = [...ranges].sort((x, y) => x.first - y.first);
  const out: ByteRange[] = [];
  let cur = sorted[0]!;
  for (let i = 1; i < sorted.length; i++) {
    const r = sorted[i]!;
    if (r.first <= cur.last + 1) cur = { first: cur.first, last: Math.max(cur.last, r.last) };
    else {
      out.push(cur);
      cur = r;
    }
  }
  out.push(cur);
  return out;
}

/** `Content-Range` of a 206 part: `bytes first-last/length` (RFC 9110 §14.4). */
export function contentRange(r: ByteRange, length: number): string {
  return `bytes ${r.first}-${r.last}/${length}`;
}

/** `Content-Range` of a 416: `bytes *\/length` (RFC 9110 §14.4, §15.5.17). */
export function unsatisfiedRange(length: number): string {
  return `bytes */${length}`;
}

/**
 * Whether an `If-Range` value still describes the current representation,
 * so the `Range` may be honoured (RFC 9110 §13.1.5). An entity-tag must
 * match strongly; a date must equal `Last-Modified` exactly, and only
 * counts when that date is strong: the exact modification time (when known)
 * at least a second before `now` (§8.8.2.2), so two writes within one
 * second never share a strong date.
 * @param now the current time in ms since the epoch.
 */
export function ifRangeMatches(value: string, current: Validators, now = Date.now()): boolean {
  const v = trimOWS(value);
  if (v.startsWith('"')) return v === current.etag && !current.etag.startsWith('W/');
  if (v.startsWith('W/')) return false; // a weak tag never matches (§13.1.5)
  const date = parseHttpDate(v);
  return date !== undefined && date === current.lastModified && now - (current.modifiedAtMs ?? current.lastModified) >= 1000;
}

/**
 * `multipart/byteranges` content for several ranges (RFC 9110 §14.6), with
 * its length computed in advance so it can carry `Content-Length`.
 * @param ranges the ranges, as returned in a `ranges` outcome.
 * @param length the whole representation's length in bytes.
 * @param contentType the representation's media type, repeated in each part.
 * @param openRange opens the bytes of one range as a stream.
 * @returns the `Content-Type` value (with its boundary) and the body.
 */
export function multipartByteranges(
  ranges: readonly ByteRange[],
  length: number,
  contentType: string,
  openRange: (r: ByteRange) => Readable,
): { contentType: string; body: StreamBody } {
  const boundary = randomBytes(12).toString('hex');
  const heads = ranges.map(
    (r, i) => `${i === 0 ? '' : '\r\n'}--${boundary}\r\nContent-Type: ${contentType}\r\nContent-Range: ${contentRange(r, length)}\r\n\r\n`,
  );
  const tail = `\r\n--${boundary}--\r\n`;
  let total = Buffer.byteLength(tail, 'latin1');
  ranges.forEach((r, i) => (total += Buffer.byteLength(heads[i]!, 'latin1') + r.last - r.first + 1));
  async function* parts(): AsyncGenerator<Buffer> {
    for (let i = 0; i < ranges.length; i++) {
      yield Buffer.from(heads[i]!, 'latin1');
      for await (const chunk of openRange(ranges[i]!)) yield chunk as Buffer;
    }
    yield Buffer.from(tail, 'latin1');
  }
  return {
    contentType: `multipart/byteranges; boundary=${boundary}`,
    body: { length: total, open: () => Readable.from(parts(), { objectMode: false }) },
  };
}
