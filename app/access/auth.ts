/**
 * HTTP Basic authentication (RFC 7617) as a policy around the router:
 * `--auth`/`--auth-file` require credentials for every request, and with
 * `--auth-writes` for writes only (every method that is not safe, see
 * `safe-methods.ts`), reads staying public.
 *
 * The policy answers before any handler runs, so a refused upload writes
 * nothing and its content is never asked for: an `Expect: 100-continue`
 * client gets the 401 instead of `100 Continue` (and the connection
 * closes), any other client's content is read and discarded by the engine.
 * It sees the method and the `Authorization` field only, never the path,
 * so no spelling of a path gets around it.
 *
 * A failed check counts against the client (`throttle.ts`); a verified
 * `Authorization` value is trusted for a minute (`verified-credentials.ts`)
 * and then passes without a hash, synchronously. Neither a password nor an
 * `Authorization` value is logged or kept.
 */

import type { Request } from '../http/request.js';
import { type HeaderFields, type Response, TEXT_PLAIN } from '../http/response.js';
import type { ClientResolver } from '../ops/access-log.js';
import type { UserTable } from './htpasswd.js';
import { PasswordChecker } from './password-check.js';
import type { Policy } from './policy.js';
import { isSafeMethod } from './safe-methods.js';
import { FailureThrottle, clientKey } from './throttle.js';
import { VerifiedCredentials, credentialKey } from './verified-credentials.js';

/** Options of {@link basicAuth}. */
export interface AuthOptions {
  readonly users: UserTable;
  /** Require credentials only for methods that are not safe (`--auth-writes`). */
  readonly writesOnly: boolean;
  /** The protection space shown by browsers; default `"files"`. */
  readonly realm?: string;
  /**
   * Finds the client of a request, whose failures are counted: the peer
   * by default; with `--trust-proxy`, the client a trusted proxy forwards for.
   */
  readonly client?: ClientResolver;
  readonly throttle?: FailureThrottle;
}

/** The user-id and password of a Basic `Authorization` value, or `null` if it is not one (RFC 7617 §2). */
export function parseBasicCredentials(value: string): { user: string; password: string } | null {
  const m = /^[Bb][Aa][Ss][Ii][Cc] +([A-Za-z0-9+/]+={0,2}) *$/.exec(value);
  if (m === null) return null;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(m[1]!, 'base64')); // charset="UTF-8"
  } catch {
    return null;
  }
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  return { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** A `realm` quoted-string (RFC 9110 §5.6.4). */
function quoted(s: string): string {
  return `"${s.replace(/[\\"]/g, '\\$&')}"`;
}

/**
 * The Basic authentication policy.
 * @returns a {@link Policy}: requests it lets through go to `next`
 *   unchanged; others get `401` with `WWW-Authenticate: Basic realm="…",
 *   charset="UTF-8"` (RFC 7617 §2.1), or `429` with `Retry-After` (seconds)
 *   while their client is throttled. A request whose check fails
 *   unexpectedly (the verifier thread died) gets 500, never passes.
 */
export function basicAuth(options: AuthOptions): Policy {
  const checker = new PasswordChecker(options.users);
  const verified = new VerifiedCredentials();
  const throttle = options.throttle ?? new FailureThrottle();
  const resolve = options.client;
  const clientOf = (req: Request): string =>
    resolve === undefined || req.connection === undefined
      ? (req.connection?.remoteAddress ?? '')
      : resolve({ request: req, connection: req.connection, status: 0, bytesSent: 0, startTime: 0, durationMs: 0, aborted: false }).address;
  const challenge: Response = Object.freeze({
    status: 401,
    headers: Object.freeze({ 'WWW-Authenticate': `Basic realm=${quoted(options.realm ?? 'files')}, charset="UTF-8"`, ...TEXT_PLAIN }) as HeaderFields,
    body: 'authentication required\n',
  });
  const tooMany = (seconds: number): Response => ({
    status: 429,
    headers: { 'Retry-After': String(seconds), ...TEXT_PLAIN },
    body: `too many failed logins from your address; try again in ${seconds} s\n`,
  });

  return (next) => (req) => {
    if (options.writesOnly && isSafeMethod(req.method)) return next(req);
    const authorization = req.fields.get('authorization');
    const now = Date.now();
    const key = authorization === undefined ? undefined : credentialKey(authorization);
    if (key !== undefined && verified.has(key, now)) return next(req);
    const client = clientKey(clientOf(req));
    const wait = throttle.retryAfter(client, now);
    if (wait > 0) return tooMany(wait);
    if (authorization === undefined) return challenge; // no credentials yet: a challenge, not a failure
    const credentials = parseBasicCredentials(authorization);
    if (credentials === null) {
      throttle.failure(client, now);
      return challenge;
    }
    throttle.begin(client, now);
    return checker.check(credentials.user, credentials.password).then(
      (ok) => {
        throttle.end(client, ok, Date.now());
        if (!ok) return challenge;
        verified.add(key!, Date.now());
        return next(req);
      },
      (err: unknown) => {
        throttle.end(client, true, Date.now());
        throw err;
      },
    );
  };
}
