/**
 * Which methods only read (RFC 9110 §9.2.1): GET, HEAD, OPTIONS and TRACE.
 * Every other method, known or not (POST, PUT, DELETE, PATCH, WebDAV's
 * MKCOL and MOVE, an extension method), counts as a write for the policies.
 */

const SAFE: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/** True for GET, HEAD, OPTIONS and TRACE (methods are case-sensitive, RFC 9110 §9.1). */
export function isSafeMethod(method: string): boolean {
  return SAFE.has(method);
}
