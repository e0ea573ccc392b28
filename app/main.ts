/**
 * The composition root: read the command line, build the server from the
 * stages in challenge order, listen on port 4221 (IPv6 and IPv4).
 */

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
import { installShutdown } from './ops/shutdown.js';
import { accessLogFromOptions } from './ops/access-log.js';
import { openTrace } from './ops/trace.js';

/** The stages' routes and filters, assembled into one handler. */
function buildHandler(cli: CommandLine) {
  // One budget for /files/ and the --root site: three quarters for files, a quarter for listings.
  const cache = new FileCache(Math.floor((cli.cacheSize * 3) / 4));
  const listings = new ListingCache({ maxBytes: Math.floor(cli.cacheSize / 4) });
  const routes: Route[] = [
    ...(cli.root === undefined ? [rootRoute] : []), // ia4 Respond with 200 (a --root site answers / itself)
    echoRoute, // cn2 Respond with body
    userAgentRoute, // fs3 Read header
    filesRoute(cli.directory, { dotfiles: cli.dotfiles, cache, listings }), // ap6 Return a file, qv8 Read request body
  ];
  // ih0 Extract URL path: 404 for what no route serves, unless a --root site has it.
  const fallback = cli.root === undefined ? notFound : staticSite(cli.root, cli.dotfiles, notFound, cache, listings);
  const router = new Router(routes, fallback);
  return withFilters(router.handle, [compression]); // df4, ij8, cr8 compression
}

function main(): void {
  let cli: CommandLine;
  try {
    cli = parseCommandLine(hideBin(process.argv));
  } catch (e) {
    console.error(`error: ${(e as Error).message} (see --help)`);
    process.exit(2);
  }
  let log: ReturnType<typeof accessLogFromOptions>;
  let trace: ReturnType<typeof openTrace> | undefined;
  try {
    log = accessLogFromOptions(cli.log);
    trace = cli.trace === undefined ? undefined : openTrace(cli.trace);
  } catch (e) {
    console.error(`error: ${(e as Error).message}`);
    process.exit(1);
  }
  const http = createHttpServer(buildHandler(cli), cli.server, undefined, log?.record, trace?.tracer);
  const listen = (host: string) => http.server.listen({ port: cli.port, host, ipv6Only: false });
  http.server.on('error', (err: NodeJS.ErrnoException) => {
    if (http.server.listening) {
      // An accept failure (EMFILE when out of file descriptors): keep serving
      // the connections we have; accepting resumes when descriptors free up.
      console.error(`warning: accepting a connection failed: ${err.code ?? err.message}`);
      return;
    }
    if (cli.host === '::' && (err.code === 'EAFNOSUPPORT' || err.code === 'EADDRNOTAVAIL')) {
      listen('0.0.0.0'); // no IPv6 on this machine
      return;
    }
    console.error(`error: cannot listen on port ${cli.port}: ${err.code ?? err.message}`);
    process.exit(1);
  });
  http.server.on('listening', () => {
    const addr = http.server.address();
    const port = typeof addr === 'object' && addr !== null ? addr.port : cli.port;
    const where = typeof addr === 'object' && addr !== null ? addr.address : cli.host;
    const families = where === '::' ? ' (IPv6 and IPv4)' : '';
    console.log(`Listening on http://localhost:${port} (bound to ${where}${families})${cli.directory ? `, files from ${cli.directory}` : ''}${cli.root ? `, site from ${cli.root}` : ''}`);
  });
  listen(cli.host);
  const shutdown = installShutdown(http, { timeoutMs: cli.shutdownTimeout });
  if (log !== undefined) shutdown.beforeExit(log.flush);
  if (trace !== undefined) shutdown.beforeExit(trace.flush);
}

main();
