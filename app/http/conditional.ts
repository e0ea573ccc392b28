/**
 * Validators and conditional requests (RFC 9110 §8.8, §13).
 */

import type { Stats } from 'node:fs';
import type { Fields } from './fields.js';
import { splitList } from './grammar.js';

/** The validators of the selected representation (RFC 9110 §8.8). */
export interface Validators {
  /** A strong entity-tag, quotes included, e.g. `"1a2b-3c-4d5e"`. */
  readonly etag: string;
  /** Last modification time in ms since the epoch, whole seconds (HTTP-date precision). */
  readonly lastModified: number;
  /** The exact modification time in ms, when known: whether `lastModified` is strong is judged on it (RFC 9110 §8.8.2.2). */
  readonly modifiedAtMs?: number;
}

/**
 * Strong validators of a file from its inode, size and modification time
 * (RFC 9110 §8.8.3): any change to the file's bytes through a write or a
 * rename changes at least one of the three.
 */
export function fileValidators(st: Pick<Stats, 'ino' | 'size' | 'mtimeMs'>): Validators {
  const mtimeUs = Math.floor(st.mtimeMs * 1000);
  return {
    etag: `"${st.ino.toString(36)}-${st.size.toString(36)}-${mtimeUs.toString(36)}"`,
    lastModified: Math.floor(st.mtimeMs / 1000) * 1000,
    modifiedAtMs: st.mtimeMs,
  };
}

/** Formats ms since the epoch as an IMF-fixdate (RFC 9110 §5.6.7). */
export function formatHttpDate(ms: number): string {
  return new Date(ms).toUTCString();
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const IMF_FIXDATE = /^[A-Za-z]{3}, (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const RFC850_DATE = /^[A-Za-z]{6,9}, (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/;
const ASCTIME_DATE = /^[A-Za-z]{3} ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/;

/**
 * Parses an HTTP-date in any of the three formats a recipient must accept
 * (RFC 9110 §5.6.7): IMF-fixdate, rfc850-date, asctime-date.
 * @returns ms since the epoch, or `undefined` when invalid (an invalid
 *   date makes the condition that carries it be ignored).
 */
export function parseHttpDate(value: string): number | undefined {
  let day: number, month: string, year: number, h: number, mi: number, s: number;
  let m = IMF_FIXDATE.exec(value);
  if (m !== null) {
    [day, month, year, h, mi, s] = [Number(m[1]), m[2]!, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  } else if ((m = RFC850_DATE.exec(value)) !== null) {
    // Two-digit years: RFC 9110 §5.6.7 says more than 50 years ahead means the past century.
    const yy = Number(m[3]);
    const nowYear = new Date().getUTCFullYear();
    year = 2000 + yy;
    if (year > nowYear + 50) year -= 100;
    [day, month, h, mi, s] = [Number(m[1]), m[2]!, Number(m[4]), Number(m[5]), Number(m[6])];
  } else if ((m = ASCTIME_DATE.exec(value)) !== null) {
    [month, day, h, mi, s, year] = [m[1]!, Number(m[2]!.trim()), Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])];
  } else {
    return undefined;
  }
  const mon = MONTHS.indexOf(month.toLowerCase());
  if (mon === -1 || day < 1 || day > 31 || h > 23 || mi > 59 || s > 60) return undefined;
  const ms = Date.UTC(year, mon, day, h, mi, s);
  return new Date(ms).getUTCDate() === day ? ms : undefined;
}

/** Strips the weakness indicator: `W/"x"` → `"x"`. */
function opaque(tag: string): string {
  return tag.startsWith('W/') ? tag.slice(2) : tag;
}

/**
 * Whether an `If-Match` / `If-None-Match` value matches the current
 * entity-tag (RFC 9110 §13.1.1, §13.1.2). `*` matches any existing
 * representation.
 * @param weak use weak comparison (If-None-Match) rather than strong (If-Match).
 */
export function etagListMatches(value: string, current: string | undefined, weak: boolean): boolean {
  if (current === undefined) return false;
  if (value.trim() === '*') return true;
  for (const tag of splitList(value)) {
    if (weak) {
      if (opaque(tag) === opaque(current)) return true;
    } else if (!tag.startsWith('W/') && !current.startsWith('W/') && tag === current) {
      return true;
    }
  }
  return false;
}

/** The outcome of {@link evaluatePreconditions}. */
export type PreconditionOutcome = 'proceed' | 'not-modified' | 'failed';

/**
 * Evaluates the preconditions of a request in the order of RFC 9110
 * §13.2.2: If-Match, If-Unmodified-Since, If-None-Match, If-Modified-Since.
 * @param method the request method (If-Modified-Since applies to GET/HEAD only).
 * @param current validators of the current representation, `null` when
 *   there is none (then `If-Match: *` fails and `If-None-Match: *` passes).
 * @returns `proceed`; `not-modified` (answer 304, GET/HEAD only); or
 *   `failed` (answer 412).
 */
export function evaluatePreconditions(method: string, fields: Fields, current: Validators | null): PreconditionOutcome {
  const isGetOrHead = method === 'GET' || method === 'HEAD';
  const ifMatch = fields.get('if-match');
  if (ifMatch !== undefined) {
    if (current === null) return 'failed';
    if (!etagListMatches(ifMatch, current.etag, false)) return 'failed';
  } else {
    const ius = fields.get('if-unmodified-since');
    if (ius !== undefined && current !== null) {
      const date = parseHttpDate(ius);
      if (date !== undefined && current.lastModified > date) return 'failed';
    }
  }
  const ifNoneMatch = fields.get('if-none-match');
  if (ifNoneMatch !== undefined) {
    if (current !== null && etagListMatches(ifNoneMatch, current.etag, true)) return isGetOrHead ? 'not-modified' : 'failed';
  } else if (isGetOrHead && current !== null) {
    const ims = fields.get('if-modified-since');
    if (ims !== undefined) {
      const date = parseHttpDate(ims);
      if (date !== undefined && current.lastModified <= date) return 'not-modified';
    }
  }
  return 'proceed';
}
