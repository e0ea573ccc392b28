/**
 * The shape of one row of the robustness tables, and a builder for raw
 * requests. Requests are latin1 strings: every byte is written as given.
 */

/** One hostile, malformed or borderline request and what the server must do. */
export interface Case {
  /** What is special about the request, with the rule it tests. */
  readonly name: string;
  /** The bytes sent at once. `$F` stands for a fresh file path under `/files/`. */
  readonly send: string;
  /** The status of the one response expected. */
  readonly status: number;
  /**
   * true: the response carries `Connection: close` and the server closes
   * right after it, answering nothing of what followed. false: the
   * connection stays usable, and a request pipelined right behind this
   * one is answered next (proof that the framing was understood).
   */
  readonly close: boolean;
  /** When set, `$F` must afterwards hold exactly these bytes. */
  readonly stored?: string;
  /** The response content expected, when it matters. */
  readonly body?: string;
  /** The request was HEAD: its response has no content. */
  readonly head?: boolean;
  /** Send nothing after it: the case is about bytes that never complete a line. */
  readonly alone?: boolean;
}

export const CRLF = '\r\n';
/** A Host field line that every HTTP/1.1 request needs (RFC 9112 §3.2). */
export const HOST = 'Host: example.test';

/**
 * A request: the request-line, the field lines (`Host` first unless the
 * fields are given), the empty line, and the content, CRLF-delimited.
 */
export function raw(requestLine: string, fields: readonly string[] = [HOST], content = ''): string {
  return requestLine + CRLF + fields.map((f) => f + CRLF).join('') + CRLF + content;
}

/** `POST $F` with the given extra field lines and content. */
export function post(fields: readonly string[], content: string, version = 'HTTP/1.1'): string {
  return raw(`POST $F ${version}`, [HOST, ...fields], content);
}

/** The request pipelined behind every case, and its answer. */
export const FOLLOW_UP = raw('GET /echo/next HTTP/1.1');
export const FOLLOW_UP_BODY = 'next';
