/**
 * `--read-only` as a policy around the router: every method that is not
 * safe (`safe-methods.ts`) is refused, whatever its path, before any
 * handler runs; so no spelling of a path (`//files/x`, `%2e%2e`, an
 * absolute-form target) reaches an upload handler. A known method gets
 * `405` with `Allow: GET, HEAD, OPTIONS`, an unknown one `501`, as the
 * router would answer (RFC 9110 §15.5.6, §15.6.2). Every `Allow` field
 * passing through (an `OPTIONS` answer, a router's 405) loses the methods
 * that are now off (RFC 9110 §10.2.1).
 */

import type { Response } from '../http/response.js';
import { TEXT_PLAIN } from '../http/response.js';
import { KNOWN_METHODS, type RequestHandler } from '../http/router.js';
import { isSafeMethod } from './safe-methods.js';

const ALLOW = 'GET, HEAD, OPTIONS';

/** `res` with the unsafe methods taken out of its `Allow` field, if it has one. */
function withoutWrites(res: Response): Response {
  const h = res.headers;
  if (h === undefined) return res;
  const name = h['Allow'] !== undefined ? 'Allow' : h['allow'] !== undefined ? 'allow' : undefined;
  if (name === undefined) return res;
  const allow = h[name]!.split(',').map((m) => m.trim()).filter((m) => m !== '' && isSafeMethod(m)).join(', ');
  return { ...res, headers: { ...h, [name]: allow } };
}

/**
 * The read-only policy.
 * @returns a handler that refuses every unsafe method and passes the rest
 *   to `next`, with their `Allow` fields reduced.
 */
export function readOnly(next: RequestHandler): RequestHandler {
  return (req) => {
    const method = req.method;
    if (!isSafeMethod(method)) {
      if (!KNOWN_METHODS.has(method)) return { status: 501, headers: TEXT_PLAIN, body: `method ${method} is not implemented\n` };
      return { status: 405, headers: { Allow: ALLOW, ...TEXT_PLAIN }, body: `${method} is not allowed: this server is read-only\n` };
    }
    const res = next(req);
    return res instanceof Promise ? res.then(withoutWrites) : withoutWrites(res);
  };
}
