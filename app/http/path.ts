/**
 * Turning a percent-encoded request path into safe file-system segments.
 */

import { HttpError } from './errors.js';

/**
 * Splits a percent-encoded path (no leading `/`) on `/` and decodes each
 * segment once (RFC 3986 §2.1). Empty segments (`a//b`, a trailing `/`)
 * are dropped.
 * @returns the decoded segments, or `null` when a segment could name
 *   something outside the directory it is resolved in: `.` or `..`, or a
 *   decoded `/` (`%2F`), `\`, or NUL inside a segment.
 * @throws HttpError 400 on a malformed percent-encoding (`%zz`, bad UTF-8).
 */
export function decodePathSegments(encoded: string): string[] | null {
  const out: string[] = [];
  for (const raw of encoded.split('/')) {
    if (raw.length === 0) continue;
    let seg: string;
    try {
      seg = raw.indexOf('%') === -1 ? raw : decodeURIComponent(raw);
    } catch {
      throw new HttpError(400, 'malformed percent-encoding in path');
    }
    if (seg === '.' || seg === '..' || seg.includes('/') || seg.includes('\\') || seg.includes('\0')) return null;
    out.push(seg);
  }
  return out;
}

/**
 * Decodes one percent-encoded path component as UTF-8 (RFC 3986 §2.1).
 * @throws HttpError 400 on a malformed percent-encoding.
 */
export function decodeComponent(encoded: string): string {
  if (encoded.indexOf('%') === -1) return encoded;
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw new HttpError(400, 'malformed percent-encoding in path');
  }
}
