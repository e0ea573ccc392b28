/**
 * The composition root: read the command line, build the server from the
 * stages in challenge order, listen on port 4221 (IPv6 and IPv4), in this
 * process or in `--workers` processes (`app/ops/workers.ts`), then print
 * the banner and sweep away what a crash left of uploads (`app/ops/`).
 */

import type { ListenOptions } from 'node:net';
import { hideBin } from 'yargs/helpers';
import { parseCommandLine, type CommandLine } from './cli.js';
import { KNOWN_METHODS, type Route, Router, withFilters } from './http/router.js';
import { createHttpServer } from './http/server.js';
import { rootRoute } from '../stages/root.js';
import { notFound } from '../stages/not-found.js';
import { echoRoute } from '../stages/echo.js';
import { userAgentRoute } from '../stages/user-agent.js';
import { filesRoute } from '../stages/files.js';
import { ListingCache } from './files/directory-listing.js';
import { FileCache } from './files/file-cache.js';
import { staticSite } from './files/static-site.js';
import { compression } from '../stages/compression.js';
import { bannerLines, bannerOnTerminal, printBanner } from './ops/banner.js';
import { listenFailure, wellKnownPortWarning } from './ops/ports.js';
import { sweepInBackground } from './ops/stale-uploads.js';
import { isWorker, runPrimary, tellPrimary, workerListenOptions } from './ops/workers.js';
import { installShutdown } from './ops/shutdown.js';
import { accessLogFromOptions, prepareLogFile } from './ops/access-log.js';
import { openTrace } from './ops/trace.js';
import { type LoadedTls, loadTls, reloadOnHangup } from './ops/tls.js';
import { cors } from './access/cors.js';
import { securityHeaders } from './access/security-headers.js';
import { basicAuth } from './access/auth.js';
import { noPolicy } from './access/policy.js';
import { readOnly } from './access/read-only.js';

/** The stages' routes and filters, assembled into one handler. */
function buildHandler(cli: CommandLine) {
  // One budget for /files/ and the --root site: three quarters for files, a quarter for listings.
  const cache = new FileCache(Math.floor((cli.cacheSize * 3) / 4));
  const listings = new ListingCache({ maxBytes: Math.floor(cli.cacheSize / 4) });
  const files = filesRoute(cli.directory, { dotfiles: cli.dotfiles, cache, listings, sharedWithOtherProcesses: cli.workers > 1, scheme: cli.tls === undefined ? 'http' : 'https', writable: cli.writable });
  const routes: Route[] = [
    ...(cli.root === undefined ? [rootRoute] : []), // ia4 Respond with 200 (a --root site answers / itself)
    echoRoute, // cn2 Respond with body
    userAgentRoute, // fs3 Read header
    files, // ap6 Return a file, qv8 Read request body
  ];
  // ih0 Extract URL path: 404 for what no route serves, unless a --root site has it.
  const fallback = cli.root === undefined ? notFound : staticSite(cli.root, cli.dotfiles, notFound, cache, listings);
  const router = new Router(routes, fallback);
  const handler = withFilters(router.handle, [compression]); // df4, ij8, cr8 compression
  // Policies around the router, outermost first, so they see every request whatever its path (issue 9):
  // nosniff everywhere and uploads sandboxed; CORS answers preflights before auth; who may log in; who may write.
  const auth = cli.auth === undefined ? noPolicy : basicAuth({ ...cli.auth, client: cli.log.client });
  const writes = cli.writable ? noPolicy : readOnly;
  const withCors = cli.cors === undefined ? noPolicy : cors({ origins: cli.cors, methods: KNOWN_METHODS });
  return securityHeaders({ sandboxPrefix: files.path })(withCors(auth(writes(handler))));
}

/** Serves the port in this process: the only one (`--workers 1`), or one worker of several. */
function serve(cli: CommandLine, tls: LoadedTls | undefined): void {
  const worker = isWorker();
  let log: ReturnType<typeof accessLogFromOptions>;
  let trace: ReturnType<typeof openTrace> | undefined;
  try {
    log = accessLogFromOptions({ ...cli.log, headerByOtherProcess: worker });
    trace = cli.trace === undefined ? undefined : openTrace(cli.trace);
  } catch (e) {
    const line = `error: ${(e as Error).message}`;
    if (worker) return tellPrimary({ kind: 'fatal', line }, () => process.exit(1));
    console.error(line);
    process.exit(1);
  }
  const tlsSettings = tls === undefined ? undefined : { ...tls, handshakeTimeout: cli.tls!.handshakeTimeout };
  const http = createHttpServer(buildHandler(cli), cli.server, undefined, log?.record, trace?.tracer, tlsSettings);
  if (cli.tls?.source.kind === 'files') reloadOnHangup(http.tls!, cli.tls.source); // SIGHUP: new certificate for new connections
  if (worker) process.on('SIGHUP', () => undefined); // forwarded by the primary: without a log or TLS, it must not end this worker
  const bind = worker ? workerListenOptions(cli.port) : { port: cli.port };
  let host = cli.host;
  const listen = (h: string) => {
    host = h;
    http.server.listen({ ...bind, host: h, ipv6Only: false } as ListenOptions);
  };
  http.server.on('error', (err: NodeJS.ErrnoException) => {
    if (http.server.listening) {
      // An accept failure (EMFILE when out of file descriptors): keep serving
      // the connections we have; accepting resumes when descriptors free up.
      console.error(`warning: accepting a connection failed: ${err.code ?? err.message}`);
      return;
    }
    if (host === '::' && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) {
      listen('0.0.0.0'); // no IPv6 on this machine
      return;
    }
    const line = listenFailure(err, host, bind.port);
    if (worker) return tellPrimary({ kind: 'fatal', line }, () => process.exit(1));
    console.error(line);
    process.exit(1);
  });
  http.server.on('listening', () => {
    const addr = http.server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : cli.port;
    const address = typeof addr === 'object' && addr !== null ? addr.address : host;
    if (worker) return tellPrimary({ kind: 'listening', port, address });
    ready(cli, port, address, [process.pid], tls);
  });
  listen(cli.host);
  // Graceful shutdown: stop accepting, finish what is in flight, exit. A
  // worker drains on its primary's SIGTERM only (a terminal's Ctrl+C reaches
  // it too, and must not count as a second, forcing signal).
  const shutdown = installShutdown(http, { timeoutMs: cli.shutdownTimeout, signals: worker ? ['SIGTERM'] : ['SIGINT', 'SIGTERM'] });
  if (worker) process.on('disconnect', () => shutdown.signal('SIGTERM'));
  if (log !== undefined) shutdown.beforeExit(log.flush);
  if (trace !== undefined) shutdown.beforeExit(trace.flush);
}

/** Once the port is served: the banner, then the stale-upload sweep in the background. */
function ready(cli: CommandLine, port: number, address: string, pids: number[], tls: LoadedTls | undefined): void {
  const auth = cli.auth && (cli.auth.writesOnly ? 'writes' : 'all');
  printBanner(bannerLines({ port, address, directory: cli.directory, root: cli.root, pids, tls, qr: cli.qr && bannerOnTerminal(), writable: cli.writable, auth }));
  if (cli.directory !== undefined) sweepInBackground(cli.directory, cli.server.bodyTimeout);
}

function main(): void {
  let cli: CommandLine;
  try {
    cli = parseCommandLine(hideBin(process.argv));
  } catch (e) {
    console.error(`error: ${(e as Error).message} (see --help)`);
    process.exit(2);
  }
  // TLS: the certificate is read (or made) before anything listens; a bad one stops startup.
  const tlsReady = cli.tls === undefined ? Promise.resolve(undefined) : loadTls(cli.tls.source);
  tlsReady.then(
    (tls) => start(cli, tls),
    (e: Error) => {
      const line = `error: ${e.message}`;
      if (isWorker()) return tellPrimary({ kind: 'fatal', line }, () => process.exit(1));
      console.error(line);
      process.exit(1);
    },
  );
}

/** Serves in this process, or starts the workers. */
function start(cli: CommandLine, tls: LoadedTls | undefined): void {
  if (isWorker()) return serve(cli, tls);
  const warning = wellKnownPortWarning(cli.port);
  if (warning !== undefined) console.error(warning);
  if (cli.workers === 1) return serve(cli, tls);
  // The workers share one log file: the primary makes it (and a CSV log's header row) once.
  const { accessLog, logFormat } = cli.log;
  const prepareLog = () => accessLog !== undefined && prepareLogFile(accessLog, logFormat);
  try {
    prepareLog();
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  }
  runPrimary({
    workers: cli.workers,
    port: cli.port,
    graceMs: cli.shutdownTimeout + 2000,
    onReady: (port, address, pids) => ready(cli, port, address, pids, tls),
    onHangup: prepareLog,
  });
}

main();
