/**
 * Character classes of the HTTP grammar (RFC 9110 §5.6, RFC 9112 §3),
 * as 256-entry lookup tables indexed by byte value or char code.
 */

function table(pred: (c: number) => boolean): Uint8Array {
  const t = new Uint8Array(256);
  for (let c = 0; c < 256; c++) t[c] = pred(c) ? 1 : 0;
  return t;
}

const isAlphaNum = (c: number) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** tchar (RFC 9110 §5.6.2): the characters of a token (method, field-name, coding). */
export const TCHAR = table((c) => isAlphaNum(c) || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/**
 * Characters allowed inside a field-value (RFC 9110 §5.5): VCHAR, obs-text,
 * SP and HTAB. Everything else (NUL, CR, LF, other CTLs, DEL) is rejected.
 */
export const FIELD_VALUE_CHAR = table((c) => c === 0x09 || (c >= 0x20 && c !== 0x7f));

/**
 * Characters accepted in a request-target: visible US-ASCII (RFC 9112 §3.2).
 * Anything else, including obs-text and CTLs, makes the request-line invalid.
 */
export const TARGET_CHAR = table((c) => c > 0x20 && c < 0x7f);

/** Hex digit values, or -1 (for chunk-size, RFC 9112 §7.1). */
export const HEX_VALUE = (() => {
  const t = new Int8Array(256).fill(-1);
  for (let c = 0; c < 10; c++) t[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    t[0x41 + c] = 10 + c;
    t[0x61 + c] = 10 + c;
  }
  return t;
})();

/** True for optional whitespace characters, SP and HTAB (RFC 9110 §5.6.3). */
export function isOWS(c: number): boolean {
  return c === 0x20 || c === 0x09;
}

/**
 * Splits a list-based field value on commas and trims OWS around each
 * member, dropping empty members (RFC 9110 §5.6.1 "#rule").
 * `"gzip , ,br"` → `["gzip", "br"]`. Quoted strings are not special-cased:
 * none of the list fields we parse this way allow a comma inside quotes.
 */
export function splitList(value: string): string[] {
  const out: string[] = [];
  for (const part of value.split(',')) {
    const m = trimOWS(part);
    if (m.length > 0) out.push(m);
  }
  return out;
}

/** Removes leading and trailing SP/HTAB (and nothing else) from `s`. */
export function trimOWS(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isOWS(s.charCodeAt(start))) start++;
  while (end > start && isOWS(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}
