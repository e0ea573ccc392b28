/**
 * The command line, read with yargs: every option, its default and its
 * check, in one place.
 */

import { statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yargs from 'yargs';
import { type UserTable, loadUsers } from './access/htpasswd.js';
import { DEFAULT_CACHE_SIZE } from './files/file-cache.js';
import { DEFAULT_OPTIONS, type ServerOptions } from './http/server.js';
import { type ClientResolver, LOG_FORMATS, type LogFormat } from './ops/access-log.js';
import { parseTrustList, trustProxy } from './ops/trust-proxy.js';
import type { TlsSource } from './ops/tls.js';
import { parseOrigin } from './access/cors.js';

/** Everything the command line decides. */
export interface CommandLine {
  /** Directory served under `/files/`, absolute; `undefined` when not given. */
  directory: string | undefined;
  /** Directory served as a site at `/` (GET/HEAD of paths no stage route answers), absolute; `undefined` when not given. */
  root: string | undefined;
  /** Serve and list names starting with `.` (hidden by default). */
  dotfiles: boolean;
  /** TCP port, 0 meaning "any free port". */
  port: number;
  /** Address to bind; `::` accepts IPv6 and IPv4 alike. */
  host: string;
  /** Bytes the open-file cache may hold (0: no cache). */
  cacheSize: number;
  /** Processes serving the port (`--workers`; `auto` is one per CPU); 1 means this process alone. */
  workers: number;
  server: ServerOptions;
  /** Milliseconds exchanges in flight get to finish after SIGINT/SIGTERM. */
  shutdownTimeout: number;
  /** Access log: a file, `-`/empty for stdout, `undefined` for none; its format; `quiet` silences the terminal's lines. */
  log: { accessLog: string | undefined; logFormat: LogFormat; quiet: boolean; client: ClientResolver | undefined };
  /** `--trace FILE`: where request and response heads are written; `undefined` for none. */
  trace: string | undefined;
  // Listing page (issue 10)
  /** Print a QR code of the /files/ LAN URL in the banner on a terminal (`--no-qr` turns it off). */
  qr: boolean;
  // TLS (issue 9)
  /** HTTPS: where the certificate comes from, and milliseconds a client gets to finish its handshake; `undefined` for plain HTTP. */
  tls: { source: TlsSource; handshakeTimeout: number } | undefined;
  // ---- CORS (issue 9, Browsers) ----
  /** `--cors [ORIGIN]`: `undefined` off; `'*'` any origin (no credentials); else the origins allowed (with credentials), serialized. */
  cors: '*' | string[] | undefined;
  // -- Who may do what (issue 9): authentication and read-only mode --
  /** `--auth`/`--auth-file`: who may log in, and whether reads stay public (`--auth-writes`); `undefined`: no login. */
  auth: { users: UserTable; writesOnly: boolean } | undefined;
  /** Writes (POST, PUT, DELETE and every other unsafe method) are allowed: false with `--read-only`. */
  writable: boolean;
}

// TLS (issue 9)
/** `--tls-cert`/`--tls-key` (both or neither) or `--tls-self-signed`. */
function tlsSource(cert: unknown, key: unknown, selfSigned: boolean): TlsSource | undefined {
  const file = (name: string, v: unknown) => {
    if (typeof v !== 'string' || v.length === 0) throw new Error(`--${name} needs a PEM file path`);
    return path.resolve(v);
  };
  if (selfSigned) {
    if (cert !== undefined || key !== undefined) throw new Error('--tls-self-signed makes its own certificate: leave out --tls-cert and --tls-key');
    return { kind: 'self-signed' };
  }
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined) throw new Error('--tls-key needs --tls-cert too');
  if (key === undefined) throw new Error('--tls-cert needs --tls-key too');
  return { kind: 'files', cert: file('tls-cert', cert), key: file('tls-key', key) };
}

function existingDirectory(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0) throw new Error(`--${name} needs a directory path`);
  let isDir = false;
  try {
    isDir = statSync(value).isDirectory();
  } catch {
    throw new Error(`--${name} ${value}: no such directory`);
  }
  if (!isDir) throw new Error(`--${name} ${value}: not a directory`);
  return path.resolve(value);
}

function positiveInteger(name: string, value: unknown, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const got = typeof value === 'number' && Number.isNaN(value) ? 'something that is not a number' : String(value);
    throw new Error(`--${name} must be a whole number from ${min} to ${max}, got ${got}`);
  }
  return value;
}

/** Most worker processes `--workers` accepts. */
export const MAX_WORKERS = 256;

/** `--workers N|auto`: `auto` is the number of CPUs this process may use. */
function workerCount(value: unknown): number {
  if (value === 'auto') return Math.min(MAX_WORKERS, os.availableParallelism());
  const n = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_WORKERS) return n;
  throw new Error(`--workers must be auto or a whole number from 1 to ${MAX_WORKERS}, got ${String(value)}`);
}

/** `--cors` values: absent is off; `--cors` alone or `*` is any origin; else each origin, checked and serialized. */
function corsOrigins(value: string | string[] | undefined): '*' | string[] | undefined {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(',')).map((v) => v.trim());
  const origins = items.filter((v) => v !== '').map(parseOrigin);
  if (origins.length === 0 || origins.includes('*')) return '*';
  return [...new Set(origins)];
}

/**
 * Parses `argv` (without the `node script` prefix).
 * @returns the parsed command line.
 * @throws Error with one line of explanation on a bad option or value;
 *   `--help` and `--version` print and exit inside yargs.
 */
export function parseCommandLine(argv: string[]): CommandLine {
  const d = DEFAULT_OPTIONS;
  const args = yargs(argv)
    .scriptName('your_program.sh')
    .usage('$0 [options]\n\nAn HTTP/1.1 server written from TCP up. Listens on port 4221 by default.')
    .option('directory', { alias: 'd', type: 'string', describe: 'Directory served and written under /files/' })
    .option('root', { type: 'string', describe: 'Directory served as a site at / (index.html, listings) for GET/HEAD' })
    .option('dotfiles', { type: 'boolean', default: false, describe: 'Serve and list names starting with a dot' })
    .option('port', { alias: 'p', type: 'number', default: 4221, describe: 'TCP port to listen on (1-65535; 0 picks a free port)' })
    .option('host', { type: 'string', default: '::', describe: 'Address to bind; :: serves IPv6 and IPv4' })
    .option('workers', { type: 'string', default: '1', describe: 'Processes serving the port: a number, or auto for one per CPU' })
    .option('cache-size', { type: 'number', default: DEFAULT_CACHE_SIZE, describe: 'Bytes of file contents, coded variants and metadata kept in memory (0 turns the cache off)' })
    .option('max-target-length', { type: 'number', default: d.maxTargetLength, describe: 'Longest request-target in bytes (else 414)' })
    .option('max-header-size', { type: 'number', default: d.maxHeaderSize, describe: 'Largest header section in bytes (else 431)' })
    .option('max-header-count', { type: 'number', default: d.maxHeaderCount, describe: 'Most header fields per request (else 431)' })
    .option('max-body-size', { type: 'number', default: d.maxBodySize, describe: 'Largest request content in bytes (else 413)' })
    .option('headers-timeout', { type: 'number', default: d.headersTimeout, describe: 'Milliseconds to receive a header section (else 408)' })
    .option('keep-alive-timeout', { type: 'number', default: d.keepAliveTimeout, describe: 'Milliseconds an idle connection stays open' })
    .option('body-timeout', { type: 'number', default: d.bodyTimeout, describe: 'Longest pause in milliseconds while content is sent or received' })
    .option('date', { type: 'boolean', default: false, describe: 'Send a Date header field (RFC 9110 §6.6.1); off by default because the CodeCrafters tester rejects it' })
    .option('shutdown-timeout', { type: 'number', default: 30_000, describe: 'Milliseconds exchanges in flight get to finish after SIGINT/SIGTERM (a second signal cuts them at once)' })
    .option('access-log', { type: 'string', describe: 'Log one line per exchange to FILE (stdout without FILE or with -); SIGHUP reopens it' })
    .option('log-format', { choices: LOG_FORMATS, default: 'combined' as LogFormat, describe: 'Access log format' })
    .option('trust-proxy', { type: 'string', describe: 'Addresses or subnets (ADDR[/BITS],...) of proxies whose Forwarded or X-Forwarded-For names the client in logs' })
    .option('trace', { type: 'string', describe: 'Write every request and response head, exactly as on the wire, with its connection, to FILE' })
    // TLS (issue 9)
    .option('tls-cert', { type: 'string', describe: 'Serve HTTPS with this PEM certificate chain (with --tls-key); SIGHUP reloads both' })
    .option('tls-key', { type: 'string', describe: 'PEM private key of --tls-cert' })
    .option('tls-self-signed', { type: 'boolean', default: false, describe: 'Serve HTTPS with a certificate made at startup for localhost, this host and its addresses' })
    .option('tls-handshake-timeout', { type: 'number', default: 10_000, describe: 'Milliseconds a client gets to complete the TLS handshake' })
    .option('quiet', { type: 'boolean', default: false, describe: 'No per-request line on a terminal (without --access-log)' })
    // Listing page (issue 10)
    .option('qr', { type: 'boolean', default: true, describe: 'With --directory, print a QR code of the /files/ LAN URL when the banner goes to a terminal (--no-qr: never)' })
    // CORS (issue 9, Browsers): --cors alone is any origin; values may repeat or be comma-separated.
    .option('cors', { type: 'string', describe: 'Answer CORS: any origin without ORIGIN (no credentials), else only ORIGIN (scheme://host[:port], repeat or comma-separate; credentials allowed)' })
    // -- Who may do what (issue 9) --
    .option('auth', { type: 'string', array: true, describe: 'Require HTTP Basic login as USER:PASSWORD (repeatable; visible to other users of this machine in ps, prefer --auth-file)' })
    .option('auth-file', { type: 'string', describe: 'Require HTTP Basic login by the users of an htpasswd FILE (bcrypt or SHA-256/512 crypt hashes)' })
    .option('auth-writes', { type: 'boolean', default: false, describe: 'With --auth/--auth-file: reads stay public, only writes need a login' })
    .option('read-only', { type: 'boolean', default: false, describe: 'Refuse every write (POST, PUT, DELETE, ...) with 405' })
    .example('$0', 'serve on port 4221')
    .example('$0 --directory /tmp', 'also serve and store files in /tmp under /files/')
    .example('$0 -p 8080 -d /srv/files --workers auto', 'port 8080, files from /srv/files, one process per CPU')
    .example('$0 --port 8080 --host 127.0.0.1', 'IPv4 loopback only, port 8080')
    .example('$0 --root ./public', 'serve ./public as a site at http://localhost:4221/')
    .example('$0 --tls-self-signed', 'serve HTTPS at https://localhost:4221/ with a fresh self-signed certificate')
    .example('$0 -d ./shared --auth-file users.htpasswd --auth-writes', 'anyone may download, only the users in users.htpasswd may upload')
    // Every option but the flag takes a value: `--port` alone is an error, not the default.
    .requiresArg(['directory', 'root', 'port', 'host', 'workers', 'cache-size', 'max-target-length', 'max-header-size', 'max-header-count', 'max-body-size', 'headers-timeout', 'keep-alive-timeout', 'body-timeout', 'shutdown-timeout', 'log-format', 'trust-proxy', 'trace', 'tls-cert', 'tls-key', 'tls-handshake-timeout', 'auth', 'auth-file'])
    .strict()
    .help()
    .alias('h', 'help')
    .version(false)
    .wrap(Math.min(110, process.stdout.columns || 110))
    .exitProcess(true)
    .fail((msg, err) => {
      throw err ?? new Error(msg);
    })
    .parseSync();

  const tls = tlsSource(args['tls-cert'], args['tls-key'], args['tls-self-signed']); // TLS (issue 9)
  return {
    directory: existingDirectory('directory', args.directory),
    root: existingDirectory('root', args.root),
    dotfiles: args.dotfiles,
    port: positiveInteger('port', args.port, 0, 65535),
    host: args.host,
    cacheSize: positiveInteger('cache-size', args['cache-size'], 0),
    workers: workerCount(args.workers),
    server: {
      maxTargetLength: positiveInteger('max-target-length', args['max-target-length']),
      maxHeaderSize: positiveInteger('max-header-size', args['max-header-size']),
      maxHeaderCount: positiveInteger('max-header-count', args['max-header-count']),
      maxBodySize: positiveInteger('max-body-size', args['max-body-size'], 0),
      headersTimeout: positiveInteger('headers-timeout', args['headers-timeout']),
      keepAliveTimeout: positiveInteger('keep-alive-timeout', args['keep-alive-timeout']),
      bodyTimeout: positiveInteger('body-timeout', args['body-timeout']),
      sendDate: args.date,
    },
    shutdownTimeout: positiveInteger('shutdown-timeout', args['shutdown-timeout'], 0),
    log: {
      accessLog: args['access-log'],
      logFormat: args['log-format'],
      quiet: args.quiet,
      client: args['trust-proxy'] === undefined ? undefined : trustProxy(parseTrustList(args['trust-proxy'])),
    },
    trace: args.trace,
    qr: args.qr, // listing page (issue 10)
    // TLS (issue 9)
    tls: tls === undefined ? undefined : { source: tls, handshakeTimeout: positiveInteger('tls-handshake-timeout', args['tls-handshake-timeout']) },
    cors: corsOrigins(args.cors),
    auth: authentication(args.auth ?? [], args['auth-file'], args['auth-writes']),
    writable: !args['read-only'],
  };
}

/** `--auth`, `--auth-file`, `--auth-writes` (issue 9). @throws Error on a bad user line or value, or `--auth-writes` alone. */
function authentication(pairs: string[], file: string | undefined, writesOnly: boolean): CommandLine['auth'] {
  const users = loadUsers(pairs, file);
  if (users === undefined && writesOnly) throw new Error('--auth-writes needs --auth or --auth-file');
  return users === undefined ? undefined : { users, writesOnly };
}
