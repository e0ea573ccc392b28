/**
 * CORS (`--cors [ORIGIN]`): lets pages from other origins use this server
 * from script, per the CORS protocol of the Fetch standard.
 *
 * - A CORS-preflight request (`OPTIONS` with `Origin` and
 *   `Access-Control-Request-Method`) from an allowed origin is answered
 *   here, `204` with `Access-Control-Allow-Methods` (every method the
 *   router knows but `CONNECT` and `TRACE`, which a browser never sends),
 *   `Access-Control-Allow-Headers` (those the file manager page sends) and
 *   `Access-Control-Max-Age`. It never reaches authentication: a
 *   preflight carries no credentials, so this policy wraps auth.
 * - Every other response gets `Access-Control-Allow-Origin` and
 *   `Access-Control-Expose-Headers` (`ETag`, `Content-Range`, ... which a
 *   script could not read otherwise), errors included, so a page can read
 *   why a request failed.
 *
 * Any origin (`--cors` alone): `Access-Control-Allow-Origin: *`, the same
 * on every response whatever its `Origin`, so no `Vary`; `*` never allows
 * credentials (a browser refuses the pair), so a page gets no cookies or
 * `Authorization` through it.
 * Listed origins (`--cors https://app.example`): the request's `Origin` is
 * reflected only when listed, with `Access-Control-Allow-Credentials: true`;
 * since the answer then depends on `Origin`, every response carries
 * `Vary: Origin` (listed or not, `Origin` or none), so a cache never hands
 * one origin's answer to another.
 * Other origins' requests pass through untouched: the browser keeps their
 * script from reading the answer, which is the protection.
 */

import type { Request } from '../http/request.js';
import type { HeaderFields, Response } from '../http/response.js';
import type { Policy } from './policy.js';
import { AddedFields } from './security-headers.js';

/** Request fields the file manager page (and WebDAV clients) send that are not CORS-safelisted. */
export const ALLOWED_REQUEST_HEADERS = [
  'Authorization', 'Content-Type', 'Depth', 'Destination', 'If-Match', 'If-Modified-Since', 'If-None-Match', 'If-Range', 'If-Unmodified-Since', 'Overwrite', 'Range',
] as const;

/** Response fields a cross-origin script may read beyond the safelisted ones. */
export const EXPOSED_RESPONSE_HEADERS = ['Accept-Ranges', 'Content-Disposition', 'Content-Length', 'Content-Range', 'ETag', 'Location'] as const;

/** Methods a browser never sends (Fetch "forbidden method"): not offered in preflight answers. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);

/** Seconds a browser may cache a preflight answer (Chromium caps it at 7200). */
export const PREFLIGHT_MAX_AGE = 600;

/** Options of {@link cors}. */
export interface CorsOptions {
  /** `'*'`: any origin, without credentials. Otherwise the serialized origins (`https://app.example:8443`) allowed, with credentials. */
  readonly origins: '*' | readonly string[];
  /** The methods the router knows (`KNOWN_METHODS`); a preflight allows them all. */
  readonly methods: Iterable<string>;
}

/**
 * Parses one `--cors` value: `*`, or an origin `scheme://host[:port]`
 * (http or https; a trailing `/` is allowed).
 * @returns `'*'`, or the origin serialized as browsers send it in `Origin`
 *   (lower-case scheme and host, no default port).
 * @throws Error with one line of explanation when it is not an origin.
 */
export function parseOrigin(value: string): string {
  const v = value.trim();
  if (v === '*') return '*';
  let url: URL | undefined;
  try {
    url = new URL(v);
  } catch {
    url = undefined;
  }
  const plain = url !== undefined && (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' &&
    url.pathname === '/' && url.search === '' && url.hash === '' && !/[?#]/.test(v);
  if (!plain) throw new Error(`--cors ${value}: not an origin (scheme://host[:port], e.g. https://app.example:8443)`);
  return url!.origin;
}

/**
 * The CORS policy.
 * @returns a policy; the wrapped handler stays synchronous when `next` is.
 */
export function cors(options: CorsOptions): Policy {
  const methods = [...new Set(options.methods)].filter((m) => !FORBIDDEN_METHODS.has(m)).join(', ');
  const common: HeaderFields = {
    'Access-Control-Allow-Methods': methods,
    'Access-Control-Allow-Headers': ALLOWED_REQUEST_HEADERS.join(', '),
    'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE),
  };
  const exposed = EXPOSED_RESPONSE_HEADERS.join(', ');

  if (options.origins === '*') {
    const preflight: Response = Object.freeze({ status: 204, headers: Object.freeze({ 'Access-Control-Allow-Origin': '*', ...common }) });
    const fields = new AddedFields({ 'Access-Control-Allow-Origin': '*', 'Access-Control-Expose-Headers': exposed });
    return (next) => (req) => (isPreflight(req) ? preflight : fields.around(next, req));
  }

  // Listed origins: one preflight answer and one set of added fields per origin, built up front.
  const allowed = new Map<string, { preflight: Response; fields: AddedFields }>();
  for (const origin of options.origins) {
    allowed.set(origin, {
      preflight: Object.freeze({
        status: 204,
        headers: Object.freeze({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', ...common, Vary: 'Origin' }),
      }),
      fields: new AddedFields({ 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', 'Access-Control-Expose-Headers': exposed, Vary: 'Origin' }),
    });
  }
  const others = new AddedFields({ Vary: 'Origin' });
  return (next) => (req) => {
    const origin = req.fields.get('origin');
    const entry = origin === undefined ? undefined : allowed.get(origin);
    if (entry === undefined) return others.around(next, req);
    return isPreflight(req) ? entry.preflight : entry.fields.around(next, req);
  };
}

/** A CORS-preflight request: `OPTIONS` with `Origin` and `Access-Control-Request-Method` (Fetch, CORS-preflight request). */
function isPreflight(req: Request): boolean {
  return req.method === 'OPTIONS' && req.fields.has('access-control-request-method') && req.fields.has('origin');
}
