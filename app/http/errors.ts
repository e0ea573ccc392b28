/**
 * Errors as values the connection can answer with (RFC 9110 §15.5, §15.6).
 */

/**
 * A request that cannot be served, carrying the status code to answer with.
 * `closeConnection` is true when the framing of the stream can no longer be
 * trusted (every parse error), so the connection must close after the
 * answer (RFC 9112 §9.6).
 */
export class HttpError extends Error {
  /** @param status 4xx or 5xx status code to answer with.
   *  @param detail one human-readable line saying what was wrong; sent as the body. */
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly closeConnection = true,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(`${status}: ${detail}`);
    this.name = 'HttpError';
  }
}

/** True when `e` is an {@link HttpError}. */
export function isHttpError(e: unknown): e is HttpError {
  return e instanceof HttpError;
}
