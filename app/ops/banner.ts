/**
 * The startup banner: where the server can be reached, what it serves
 * from where, whether it accepts uploads, and which processes serve.
 *
 * Its first line (`Listening on http://localhost:<port> ...`, `https://`
 * with TLS) always goes
 * to stdout: scripts, the tests and the benchmark wait for it there. The
 * rest goes to stdout on a terminal and to stderr otherwise, so a pipe
 * reading stdout gets that one line.
 */

import os from 'node:os';
import { qrTerminal } from './qr.js';

/** What the banner describes. */
export interface BannerInfo {
  /** The port listened on (the real one when 0 was asked for). */
  readonly port: number;
  /** The address bound, as `server.address()` gives it: `::`, `0.0.0.0`, `127.0.0.1`, ... */
  readonly address: string;
  /** Absolute path served under `/files/`, or `undefined`. */
  readonly directory: string | undefined;
  /** Absolute path served as a site at `/`, or `undefined`. */
  readonly root: string | undefined;
  /** PIDs of the processes serving the port (one: this process). */
  readonly pids: readonly number[];
  /** Show a QR code of `/files/` at the first LAN IPv4 URL (when a directory is served and there is one). */
  readonly qr?: boolean;
  /** HTTPS: the certificate's SHA-256 fingerprint and where it comes from; `undefined` for plain HTTP. */
  readonly tls?: { readonly fingerprint: string; readonly description: string } | undefined;
  /** Writes are allowed (not `--read-only`); default true. */
  readonly writable?: boolean;
  /** Who must log in (`--auth`/`--auth-file`): everyone, or writers only (`--auth-writes`); `undefined`: nobody. */
  readonly auth?: 'all' | 'writes';
}

/** Whether the banner's lines after the first reach a terminal (see {@link printBanner}). */
export function bannerOnTerminal(): boolean {
  return process.stdout.isTTY === true || process.stderr.isTTY === true;
}

/** The interfaces' addresses, as `os.networkInterfaces()` returns them. */
export type Interfaces = NodeJS.Dict<os.NetworkInterfaceInfo[]>;

/** The banner's first line, the one waited for on stdout. */
export function listeningLine(info: BannerInfo): string {
  const families = info.address === '::' ? ' (IPv6 and IPv4)' : '';
  const files = info.directory !== undefined ? `, files from ${info.directory}` : '';
  const site = info.root !== undefined ? `, site from ${info.root}` : '';
  const scheme = info.tls === undefined ? 'http' : 'https';
  return `Listening on ${scheme}://localhost:${info.port} (bound to ${info.address}${families})${files}${site}`;
}

function hostOf(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/**
 * Every URL the server can be reached at, each with where it comes from:
 * `localhost`, the loopback addresses and the LAN addresses of every
 * interface the bound address covers (`::` covers both families, `0.0.0.0`
 * IPv4). IPv6 link-local addresses are left out (a URL needs their zone).
 * @param scheme `http` or `https`.
 * @returns `[url, note]` pairs, loopback first.
 */
export function reachableUrls(port: number, bound: string, interfaces: Interfaces = os.networkInterfaces(), scheme = 'http'): Array<[string, string]> {
  const wildcard4 = bound === '0.0.0.0' || bound === '::';
  const wildcard6 = bound === '::';
  const loopback: Array<[string, string]> = [];
  const lan: Array<[string, string]> = [];
  let found = false;
  for (const [name, infos] of Object.entries(interfaces)) {
    for (const i of infos ?? []) {
      const v6 = i.family === 'IPv6';
      if (v6 && /^fe[89ab]/i.test(i.address)) continue;
      if (!(v6 ? wildcard6 : wildcard4) && i.address !== bound) continue;
      found ||= i.address === bound;
      const url = `${scheme}://${hostOf(i.address)}:${port}/`;
      (i.internal ? loopback : lan).push([url, i.internal ? 'loopback' : `LAN, ${name}`]);
    }
  }
  if (!wildcard4 && !found) lan.push([`${scheme}://${hostOf(bound)}:${port}/`, 'bound address']);
  const local: Array<[string, string]> = wildcard4 || loopback.length > 0 ? [[`${scheme}://localhost:${port}/`, 'this machine']] : [];
  return [...local, ...loopback, ...lan];
}

/** True for an address only this machine can reach: 127.0.0.0/8, `::1`, and IPv4-mapped loopback. */
export function isLoopback(address: string): boolean {
  return address === '::1' || /^(::ffff:)?127\./i.test(address) || address.toLowerCase() === 'localhost';
}

/** What `/files/` offers: nothing, reading only, or uploads, and who must log in for what. */
function filesLine(info: BannerInfo): string {
  if (info.directory === undefined) return '  /files/ serves nothing (no --directory); uploads disabled';
  const login = info.auth === 'all' ? '; every request needs a login' : info.auth === 'writes' ? '; uploads need a login' : '';
  if (info.writable === false) return `  /files/ serves ${info.directory}; read-only (--read-only)${login}`;
  return `  /files/ serves ${info.directory}; uploads enabled (POST, PUT, DELETE, MKCOL, MOVE)${login}`;
}

/** The banner: {@link listeningLine}, then the reachable URLs, what is served, and the processes. */
export function bannerLines(info: BannerInfo, interfaces?: Interfaces): string[] {
  const urls = reachableUrls(info.port, info.address, interfaces, info.tls === undefined ? 'http' : 'https');
  const width = Math.max(...urls.map(([u]) => u.length));
  const lines = [listeningLine(info), '  reachable at:'];
  for (const [url, note] of urls) lines.push(`    ${url.padEnd(width)}  (${note})`);
  if (info.tls !== undefined) lines.push(`  TLS: ${info.tls.description}`, `       SHA-256 fingerprint ${info.tls.fingerprint}`);
  lines.push(filesLine(info));
  if (info.directory !== undefined && info.writable !== false && info.auth === undefined && !isLoopback(info.address)) {
    lines.push(`  warning: anyone on the network can change the files in ${info.directory} (no --auth); add --auth-file, --read-only, or --host 127.0.0.1`);
  }
  lines.push(info.root !== undefined ? `  /       serves the site in ${info.root}` : '  /       answers 200 (no --root site)');
  if (info.qr === true && info.directory !== undefined) {
    const lan = urls.find(([url, note]) => note.startsWith('LAN') && !url.includes('['));
    if (lan !== undefined) {
      const url = `${lan[0]}files/`;
      lines.push(`  scan to open ${url} on a phone on this network:`);
      // Lines that are only colour escapes (the renderer ends with one) are left out.
      for (const l of qrTerminal(url).split('\n')) if (l.replace(/\x1b\[[0-9;]*m/g, '') !== '') lines.push(`  ${l}`);
    }
  }
  lines.push(
    info.pids.length === 1
      ? `  1 process (pid ${info.pids[0]}); Ctrl-C stops it`
      : `  ${info.pids.length} worker processes (pids ${info.pids.join(', ')}); Ctrl-C stops them all`,
  );
  return lines;
}

/**
 * Prints the banner: the first line to stdout, the rest to stdout on a
 * terminal, else to stderr.
 */
export function printBanner(lines: readonly string[]): void {
  process.stdout.write(`${lines[0]}\n`);
  const rest = lines.slice(1).map((l) => `${l}\n`).join('');
  if (rest === '') return;
  if (process.stdout.isTTY === true) process.stdout.write(rest);
  else process.stderr.write(rest);
}
