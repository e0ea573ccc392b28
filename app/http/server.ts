/**
 * The listening side: accepts TCP connections (or TLS ones, `./tls.ts`)
 * and serves each with a {@link Connection}; one sweeper timer enforces
 * every connection's deadline, so no timer is armed per request.
 */

import net from 'node:net';
import { Connection, type ConnectionOptions, type ErrorReporter, type ExchangeReporter, type TraceReporter } from './connection.js';
import { DEFAULT_LIMITS } from './parser.js';
import type { Request } from './request.js';
import type { Handler } from './response.js';
import { createTlsListener, type TlsListener, type TlsSettings } from './tls.js';

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
  /** The TLS side when it serves HTTPS (certificate reload), else `undefined`. */
  readonly tls: TlsListener | undefined;
  /** Open connections right now. */
  readonly connections: ReadonlySet<Connection>;
  /** Stops accepting, closes every connection, resolves when closed. */
  close(): Promise<void>;
  /**
   * Graceful shutdown: stops accepting (new connections are refused), closes
   * idle connections now, lets every exchange in progress finish with
   * `Connection: close`. Resolves once the last connection is closed.
   * {@link close} still cuts everything short.
   */
  drain(): Promise<void>;
  /**
   * Resolves once every handler that returned a promise has settled (at
   * once if none is pending): after {@link close}, what an aborted upload
   * needs to remove its temporary file.
   */
  handlersSettled(): Promise<void>;
}

/**
 * Creates (but does not start) an HTTP/1.1 server.
 * @param handler answers every parsed request.
 * @param options limits and timeouts; missing ones take {@link DEFAULT_OPTIONS}.
 * @param reportError receives handler failures that became 500s.
 * @param onExchange receives every exchange once answered, engine errors
 *   included (see {@link ExchangeReporter}); none is recorded without it.
 * @param tracer receives every request and response head as it crossed the wire (`--trace`).
 * @param tlsSettings serve HTTPS with these credentials; plain HTTP when `undefined`.
 * @throws Error when `tlsSettings` holds unusable credentials.
 */
export function createHttpServer(
  handler: Handler<Request>,
  options: Partial<ServerOptions> = {},
  reportError: ErrorReporter = (err) => console.error('handler failed:', err),
  onExchange?: ExchangeReporter,
  tracer?: TraceReporter,
  tlsSettings?: TlsSettings,
): HttpServer {
  const opts: ServerOptions = { ...DEFAULT_OPTIONS, ...options };
  const connections = new Set<Connection>();
  let draining = false;
  const drained = new Waiters();
  const closed = (c: Connection) => {
    connections.delete(c);
    if (connections.size === 0) drained.wake();
  };
  // Handlers still running: a shutdown waits for them (bounded) after cutting connections.
  let pendingHandlers = 0;
  const settled = new Waiters();
  const handlerDone = () => {
    if (--pendingHandlers === 0) settled.wake();
  };
  const tracked: Handler<Request> = (req) => {
    const res = handler(req);
    if (res instanceof Promise) {
      pendingHandlers++;
      res.then(handlerDone, handlerDone);
    }
    return res;
  };
  const serve = (socket: net.Socket) => {
    // Bun 1.3 builds accepted sockets without the server's allowHalfOpen,
    // so a peer's FIN would end our side before an asynchronous handler
    // answers (oven-sh/bun#31148 review); set it on the socket itself.
    socket.allowHalfOpen = true;
    const conn = new Connection(socket, tracked, opts, reportError, closed, onExchange, tracer);
    connections.add(conn);
    if (draining) conn.drain(); // accepted just before the listener closed
  };
  const tls = tlsSettings === undefined ? undefined : createTlsListener(tlsSettings, serve);
  const server = tls?.server ?? net.createServer({ allowHalfOpen: true, noDelay: true }, serve);
  const period = Math.max(20, Math.min(1000, Math.min(opts.headersTimeout, opts.keepAliveTimeout, opts.bodyTimeout) / 4));
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const c of connections) if (c.deadline !== 0 && now >= c.deadline) c.expire(now);
  }, period);
  sweeper.unref();
  server.on('close', () => clearInterval(sweeper));
  return {
    server,
    tls,
    connections,
    close: () =>
      new Promise<void>((resolve) => {
        const listening = server.listening;
        if (listening) server.close(() => resolve()); // once the listener and every connection are closed
        for (const c of connections) c.destroy();
        if (listening) return;
        // Already draining: the listener is closed, wait for the connections.
        if (connections.size === 0) resolve();
        else drained.add(resolve);
      }),
    drain: () =>
      new Promise<void>((resolve) => {
        draining = true;
        if (server.listening) server.close();
        for (const c of connections) c.drain();
        if (connections.size === 0) resolve();
        else drained.add(resolve);
      }),
    handlersSettled: () =>
      new Promise<void>((resolve) => {
        if (pendingHandlers === 0) resolve();
        else settled.add(resolve);
      }),
  };
}

/** Callbacks waiting for a condition: woken all at once, then forgotten. */
class Waiters {
  private list: (() => void)[] = [];

  add(w: () => void): void {
    this.list.push(w);
  }

  wake(): void {
    if (this.list.length === 0) return;
    const list = this.list;
    this.list = [];
    for (const w of list) w();
  }
}
