/**
 * The composition root: read the command line, build the server from the
 * stages in challenge order, listen on port 4221 (IPv6 and IPv4), in this
 * process or in `--workers` processes (`app/ops/workers.ts`), then print
 * the banner and sweep away what a crash left of uploads (`app/ops/`).
 */

import type { ListenOptions } from 'node:net';
import { hideBin } from 'yargs/helpers';
import { parseCommandLine, type CommandLine } from './cli.js';
import { type Route, Router, withFilters } from './http/router.js';
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
import { bannerLines, printBanner } from './ops/banner.js';
import { listenFailure, wellKnownPortWarning } from './ops/ports.js';
import { sweepInBackground } from './ops/stale-uploads.js';
import { isWorker, runPrimary, tellPrimary, workerListenOptions } from './ops/workers.js';
import { installShutdown } from './ops/shutdown.js';
import { accessLogFromOptions } from './ops/access-log.js';
import { openTrace } from './ops/trace.js';
import { basicAuth } from './access/auth.js';
import { noPolicy } from './access/policy.js';
import { readOnly } from './access/read-only.js';

/** The stages' routes and filters, assembled into one handler. */
function buildHandler(cli: CommandLine) {
  // One budget for /files/ and the --root site: three quarters for files, a quarter for listings.
  const cache = new FileCache(Math.floor((cli.cacheSize * 3) / 4));
  const listings = new ListingCache({ maxBytes: Math.floor(cli.cacheSize / 4) });
  const routes: Route[] = [
    ...(cli.root === undefined ? [rootRoute] : []), // ia4 Respond with 200 (a --root site answers / itself)
    echoRoute, // cn2 Respond with body
    userAgentRoute, // fs3 Read header
    filesRoute(cli.directory, { dotfiles: cli.dotfiles, cache, listings, sharedWithOtherProcesses: cli.workers > 1, writable: cli.writable }), // ap6 Return a file, qv8 Read request body
  ];
  // ih0 Extract URL path: 404 for what no route serves, unless a --root site has it.
  const fallback = cli.root === undefined ? notFound : staticSite(cli.root, cli.dotfiles, notFound, cache, listings);
  const router = new Router(routes, fallback);
  // Who may do what (issue 9): policies around the router, so they see every request whatever its path.
  const auth = cli.auth === undefined ? noPolicy : basicAuth({ ...cli.auth, client: cli.log.client });
  const writes = cli.writable ? noPolicy : readOnly;
  return auth(writes(withFilters(router.handle, [compression]))); // df4, ij8, cr8 compression
}

/** Serves the port in this process: the only one (`--workers 1`), or one worker of several. */
function serve(cli: CommandLine): void {
  const worker = isWorker();
  let log: ReturnType<typeof accessLogFromOptions>;
  let trace: ReturnType<typeof openTrace> | undefined;
  try {
    log = accessLogFromOptions(cli.log);
    trace = cli.trace === undefined ? undefined : openTrace(cli.trace);
  } catch (e) {
    const line = `error: ${(e as Error).message}`;
    if (worker) return tellPrimary({ kind: 'fatal', line }, () => process.exit(1));
    console.error(line);
    process.exit(1);
  }
  const http = createHttpServer(buildHandler(cli), cli.server, undefined, log?.record, trace?.tracer);
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
    ready(cli, port, address, [process.pid]);
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
function ready(cli: CommandLine, port: number, address: string, pids: number[]): void {
  printBanner(bannerLines({ port, address, directory: cli.directory, root: cli.root, pids, writable: cli.writable, auth: cli.auth && (cli.auth.writesOnly ? 'writes' : 'all') }));
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
  if (isWorker()) return serve(cli);
  const warning = wellKnownPortWarning(cli.port);
  if (warning !== undefined) console.error(warning);
  if (cli.workers === 1) return serve(cli);
  runPrimary({ workers: cli.workers, port: cli.port, graceMs: cli.shutdownTimeout + 2000, onReady: (port, address, pids) => ready(cli, port, address, pids) });
}

main();
