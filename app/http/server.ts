/**
 * The listening side: accepts TCP connections and serves each with a
 * {@link Connection}; one sweeper timer enforces every connection's
 * deadline, so no timer is armed per request.
 */

import net from 'node:net';
import { Connection, type ConnectionOptions, type ErrorReporter } from './connection.js';
import { DEFAULT_LIMITS } from './parser.js';
import type { Request } from './request.js';
import type { Handler } from './response.js';

/** Server settings: parser limits (bytes) and timeouts (milliseconds). */
export type ServerOptions = ConnectionOptions;

export const DEFAULT_OPTIONS: Readonly<ServerOptions> = {
  ...DEFAULT_LIMITS,
  headersTimeout: 10_000,
  keepAliveTimeout: 5_000,
  bodyTimeout: 30_000,
};

/** An HTTP/1.1 server: a `net.Server` plus a way to stop it cleanly. */
export interface HttpServer {
  readonly server: net.Server;
  /** Open connections right now. */
  readonly connections: ReadonlySet<Connection>;
  /** Stops accepting, closes every connection, resolves when closed. */
  close(): Promise<void>;
}

/**
 * Creates (but does not start) an HTTP/1.1 server.
 * @param handler answers every parsed request.
 * @param options limits and timeouts; missing ones take {@link DEFAULT_OPTIONS}.
 * @param reportError receives handler failures that became 500s.
 */
export function createHttpServer(
  handler: Handler<Request>,
  options: Partial<ServerOptions> = {},
  reportError: ErrorReporter = (err) => console.error('handler failed:', err),
): HttpServer {
  const opts: ServerOptions = { ...DEFAULT_OPTIONS, ...options };
  const connections = new Set<Connection>();
  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
    // Bun 1.3 builds accepted sockets without the server's allowHalfOpen,
    // so a peer's FIN would end our side before an asynchronous handler
    // answers (oven-sh/bun#31148 review); set it on the socket itself.
    socket.allowHalfOpen = true;
    const conn = new Connection(socket, handler, opts, reportError, (c) => connections.delete(c));
    connections.add(conn);
  });
  const period = Math.max(20, Math.min(1000, Math.min(opts.headersTimeout, opts.keepAliveTimeout, opts.bodyTimeout) / 4));
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const c of connections) if (c.deadline !== 0 && now >= c.deadline) c.expire(now);
  }, period);
  sweeper.unref();
  server.on('close', () => clearInterval(sweeper));
  return {
    server,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const c of connections) c.destroy();
      }),
  };
}
