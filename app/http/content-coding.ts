/**
 * Content-coding negotiation over `Accept-Encoding` (RFC 9110 §12.5.3).
 */

import { splitList, trimOWS } from './grammar.js';
import type { Response } from './response.js';

/** One member of an `Accept-Encoding` list: a coding and its weight. */
export interface CodingPreference {
  /** Lower-cased content-coding, `"identity"` or `"*"`. */
  coding: string;
  /** qvalue in [0, 1]; 0 means "not acceptable" (RFC 9110 §12.4.2). */
  q: number;
}

const QVALUE_RE = /^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/;

/**
 * Parses an `Accept-Encoding` field value into its members, lower-cased,
 * e.g. `"GZIP;q=0.8, br"` → `[{gzip, 0.8}, {br, 1}]`. Members with a
 * malformed weight are dropped rather than failing the request.
 */
export function parseAcceptEncoding(value: string): CodingPreference[] {
  const out: CodingPreference[] = [];
  for (const member of splitList(value)) {
    const parts = member.split(';');
    const coding = trimOWS(parts[0]!).toLowerCase();
    if (coding.length === 0) continue;
    let q = 1;
    let valid = true;
    for (let i = 1; i < parts.length; i++) {
      const param = trimOWS(parts[i]!);
      const eq = param.indexOf('=');
      if (eq === -1) {
        valid = false;
        break;
      }
      const name = trimOWS(param.slice(0, eq)).toLowerCase();
      const v = trimOWS(param.slice(eq + 1));
      if (name === 'q') {
        if (!QVALUE_RE.test(v)) {
          valid = false;
          break;
        }
        q = Number(v);
      }
    }
    if (valid) out.push({ coding, q });
  }
  return out;
}

/**
 * Chooses the content-coding for a response.
 * @param acceptEncoding the request's `Accept-Encoding` value, or
 *   `undefined` when absent (then identity is sent: any coding would be
 *   acceptable, but identity is what every client understands).
 * @param supported the codings the server can apply, most preferred first;
 *   ties in weight go to the earlier one.
 * @returns a coding from `supported`, `"identity"`, or `null` when nothing
 *   acceptable remains (`identity;q=0` or `*;q=0` with no supported coding
 *   allowed), which the caller answers with 406.
 */
export function negotiateContentCoding(acceptEncoding: string | undefined, supported: readonly string[]): string | null {
  if (acceptEncoding === undefined) return 'identity';
  const prefs = parseAcceptEncoding(acceptEncoding);
  const weightOf = (coding: string): number | undefined => {
    let q: number | undefined;
    for (const p of prefs) if (p.coding === coding) q = q === undefined ? p.q : Math.max(q, p.q);
    return q;
  };
  const star = weightOf('*');
  let best: string | null = null;
  let bestQ = 0;
  for (const coding of supported) {
    const q = weightOf(coding) ?? star ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  // identity is acceptable unless excluded by name or by "*;q=0" (RFC 9110 §12.5.3).
  const identityQ = weightOf('identity');
  const identityOk = identityQ !== undefined ? identityQ > 0 : star === undefined || star > 0;
  if (best !== null && (identityQ === undefined || bestQ >= identityQ)) return best;
  return identityOk ? 'identity' : best;
}

/**
 * The 406 answer when a client accepts none of the codings a handler can
 * send, identity included (RFC 9110 §12.5.3, §15.5.7): it lists what is
 * available, varies on `Accept-Encoding`, and is itself sent uncoded.
 * @param available the content-codings the handler offers besides identity.
 */
export function notAcceptableResponse(available: readonly string[]): Response {
  return {
    status: 406,
    headers: { 'Content-Type': 'text/plain', Vary: 'Accept-Encoding' },
    body: `no acceptable content-coding; available: ${[...available, 'identity'].join(', ')}\n`,
    codingNegotiated: true,
  };
}
