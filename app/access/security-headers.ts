/**
 * Security header fields, added to every response the handler chain
 * produces: the outermost policy of `app/main.ts`.
 *
 * - `X-Content-Type-Options: nosniff` on every response (the Fetch standard's
 *   `X-Content-Type-Options` header):
 *   a browser takes the `Content-Type` we send and never guesses a more
 *   dangerous one (a text file "sniffed" as HTML or script). Harmless
 *   where the type is right, so it goes everywhere: stages, errors, files
 *   and the `--root` site alike.
 * - `Content-Security-Policy: sandbox` under the `/files/` prefix (CSP
 *   Level 3, the `sandbox` directive): what is there is whatever someone uploaded.
 *   The sandbox gives an uploaded HTML page an opaque origin and no
 *   script, so it cannot act with this origin's authority (read other
 *   files, send requests with the user's credentials). A response that
 *   sets its own `Content-Security-Policy` (the listing page, with its
 *   script hash) keeps it. The `--root` site is the owner's own and is not
 *   sandboxed.
 *
 * A handler's own field of the same name always wins (names compared
 * case-insensitively), except `Vary`, whose lists are combined. Responses
 * the engine writes before any handler runs (a malformed request's 400,
 * 408, 413, 414, 431, 505, and the empty 500 of a handler that crashed)
 * do not pass through here: they are the server's own short text, never
 * content. An {@link HttpError} a handler throws does get the fields.
 *
 * Cost: the fields are merged once per frozen header object (handlers
 * share those between responses, e.g. `/echo`'s `text/plain`), so the
 * serializer keeps finding the same frozen object and its cached head
 * lines; the hot path is a prefix test, a lookup and one small object.
 */

import { HttpError, isHttpError } from '../http/errors.js';
import type { Request } from '../http/request.js';
import type { HeaderFields, Response } from '../http/response.js';
import type { RequestHandler } from '../http/router.js';
import type { Policy } from './policy.js';

/** `X-Content-Type-Options: nosniff`, sent with every response. */
export const NOSNIFF: Readonly<HeaderFields> = Object.freeze({ 'X-Content-Type-Options': 'nosniff' });

/** The fields of responses under the sandboxed prefix: no script, an opaque origin, and nosniff. */
export const SANDBOXED: Readonly<HeaderFields> = Object.freeze({ 'Content-Security-Policy': 'sandbox', 'X-Content-Type-Options': 'nosniff' });

/** Options of {@link securityHeaders}. */
export interface SecurityHeadersOptions {
  /**
   * Path prefix (percent-encoded, as the router matches it, e.g.
   * `/files/`) whose responses get `Content-Security-Policy: sandbox`;
   * none when `undefined`.
   */
  readonly sandboxPrefix?: string;
}

/**
 * The security-headers policy: `nosniff` on every response, and the CSP
 * sandbox on those under `options.sandboxPrefix` (unless the response
 * sets its own CSP).
 * @returns a policy; the wrapped handler stays synchronous when `next` is.
 */
export function securityHeaders(options: SecurityHeadersOptions = {}): Policy {
  const prefix = options.sandboxPrefix;
  const everywhere = new AddedFields(NOSNIFF);
  const sandboxed = new AddedFields(SANDBOXED);
  return (next) => (req: Request) => {
    const fields = prefix !== undefined && req.path.startsWith(prefix) ? sandboxed : everywhere;
    return fields.around(next, req);
  };
}

/**
 * Fixed header fields added to responses, memoized per frozen header
 * object: `to(h)` returns the same frozen object for the same frozen `h`,
 * which keeps the serializer's per-object cache of field lines working.
 * Fields the response already has are kept as they are (names compared
 * case-insensitively), except `Vary`, whose members are combined
 * (RFC 9110 §12.5.5).
 */
export class AddedFields {
  private readonly fields: Readonly<HeaderFields>;
  private readonly memo = new WeakMap<HeaderFields, HeaderFields>();
  // The last frozen object merged, and the result: one identity check for
  // a run of responses from the same route.
  private lastIn: HeaderFields | undefined;
  private lastOut: HeaderFields | undefined;

  /** @param fields the fields to add, in the order they are sent (after the response's own). */
  constructor(fields: Readonly<HeaderFields>) {
    this.fields = Object.isFrozen(fields) ? fields : Object.freeze({ ...fields });
  }

  /** `headers` with the fields added; frozen when `headers` is frozen or absent. */
  to(headers: HeaderFields | undefined): HeaderFields {
    if (headers === undefined) return this.fields;
    if (headers === this.lastIn) return this.lastOut!;
    if (!Object.isFrozen(headers)) return mergeFields(headers, this.fields);
    let out = this.memo.get(headers);
    if (out === undefined) {
      out = Object.freeze(mergeFields(headers, this.fields));
      this.memo.set(headers, out);
    }
    this.lastIn = headers;
    this.lastOut = out;
    return out;
  }

  private readonly responses = new WeakMap<Response, Response>();

  /**
   * `res` with the fields added: a new Response (`res` is left as it was),
   * or, for a frozen one (a file's cached answer), one frozen result per
   * object, so the hot path allocates nothing.
   */
  readonly response = (res: Response): Response => {
    if (!Object.isFrozen(res)) return { ...res, headers: this.to(res.headers) };
    let out = this.responses.get(res);
    if (out === undefined) {
      out = Object.freeze({ ...res, headers: this.to(res.headers) });
      this.responses.set(res, out);
    }
    return out;
  };

  /** Rethrows a handler's failure; an {@link HttpError} gains the fields, so the engine's answer to it carries them. */
  readonly failure = (err: unknown): never => {
    if (!isHttpError(err)) throw err;
    throw new HttpError(err.status, err.detail, err.closeConnection, this.to({ ...err.headers }));
  };

  /** Calls `next(req)` and adds the fields to its answer, synchronous or not, and to an HttpError it throws. */
  around(next: RequestHandler, req: Request): Response | Promise<Response> {
    let res: Response | Promise<Response>;
    try {
      res = next(req);
    } catch (err) {
      return this.failure(err);
    }
    return res instanceof Promise ? res.then(this.response, this.failure) : this.response(res);
  }
}

/** `headers` then the `added` fields it lacks; `Vary` lists are combined. A new, unfrozen object. */
function mergeFields(headers: Readonly<HeaderFields>, added: Readonly<HeaderFields>): HeaderFields {
  const out: HeaderFields = { ...headers };
  next: for (const name in added) {
    const lower = name.toLowerCase();
    for (const own in headers) {
      if (own.toLowerCase() !== lower) continue;
      if (lower === 'vary') out[own] = varyWith(headers[own]!, added[name]!);
      continue next;
    }
    out[name] = added[name]!;
  }
  return out;
}

/** The `Vary` value `vary` with the members of `more` it lacks appended; `*` stays `*` (RFC 9110 §12.5.5). */
export function varyWith(vary: string, more: string): string {
  const have = vary.split(',').map((m) => m.trim().toLowerCase()).filter((m) => m !== '');
  if (have.includes('*')) return vary;
  let out = have.length === 0 ? '' : vary;
  for (const m of more.split(',')) {
    const member = m.trim();
    if (member === '' || have.includes(member.toLowerCase())) continue;
    out = out === '' ? member : `${out}, ${member}`;
    have.push(member.toLowerCase());
  }
  return out;
}
