/**
 * What the server says about the port it is asked to bind: a warning for
 * a well-known port, and one line for a bind that fails.
 */

/** The well-known (system) ports, RFC 6335 §6: 0-1023; 0 means "any free port" here. */
export const LAST_WELL_KNOWN_PORT = 1023;

/**
 * The warning printed before binding `port`, or `undefined` for a port
 * above {@link LAST_WELL_KNOWN_PORT} (and for 0, "any free port").
 */
export function wellKnownPortWarning(port: number): string | undefined {
  if (port < 1 || port > LAST_WELL_KNOWN_PORT) return undefined;
  return `warning: port ${port} is a well-known port (1-${LAST_WELL_KNOWN_PORT}); binding it needs root or CAP_NET_BIND_SERVICE`;
}

/**
 * The one line explaining why listening on `port` failed:
 * `error: cannot listen on port <port>: <code> (<why>)`.
 * @param err the `listen` error (its `code`: EACCES, EADDRINUSE, ...).
 * @param host the address it tried to bind, named when it is not a wildcard.
 */
export function listenFailure(err: NodeJS.ErrnoException, host: string, port: number): string {
  const code = err.code ?? err.message;
  const of = host === '::' || host === '0.0.0.0' ? '' : ` on ${host}`;
  let why: string;
  switch (err.code) {
    case 'EACCES':
    case 'EPERM':
      why = port >= 1 && port <= LAST_WELL_KNOWN_PORT
        ? 'permission denied: a well-known port needs root or CAP_NET_BIND_SERVICE'
        : 'permission denied';
      break;
    case 'EADDRINUSE':
      why = `another program is using it${of}`;
      break;
    case 'EADDRNOTAVAIL':
      why = `no interface has the address ${host}`;
      break;
    default:
      return `error: cannot listen on port ${port}${of}: ${code}`;
  }
  return `error: cannot listen on port ${port}: ${code} (${why})`;
}
