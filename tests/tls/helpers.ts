/**
 * Helpers of the HTTPS tests: certificates made with `openssl`, the server
 * started with TLS options (under the jest project's runtime), a raw
 * HTTP/1.1 client over TLS, and `curl` / `openssl s_client` run as a user
 * runs them.
 */

import { execFile, execFileSync } from 'node:child_process';
import type { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { runtime, type Runtime } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { type Launched, launch, until } from '../ops/helpers';

/** A certificate for `localhost` and 127.0.0.1 with its key, as files and PEM. */
export interface CertFiles {
  readonly cert: string;
  readonly key: string;
  readonly pem: string;
  /** SHA-256 fingerprint as `openssl x509 -fingerprint -sha256` prints it. */
  readonly fingerprint: string;
}

/** A new empty folder under the system temp dir. */
export function scratch(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Makes `<dir>/<name>.crt` and `.key` with openssl: EC P-256, self-signed, for localhost and 127.0.0.1. */
export function makeCert(dir: string, name: string): CertFiles {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2',
    '-keyout', key, '-out', cert, '-subj', `/CN=localhost`, '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
  ], { stdio: 'ignore' });
  const fp = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256']).toString();
  return { cert, key, pem: readFileSync(cert, 'utf8'), fingerprint: fp.trim().split('=')[1]! };
}

/** Starts the server with `args` on 127.0.0.1 and a free port; resolves once it prints its https:// line. */
export async function startTls(args: string[], rt: Runtime = runtime()): Promise<Launched & { tlsPort: number }> {
  const s = launch(['--host', '127.0.0.1', '--port', '0', ...args], rt);
  let gone = false;
  void s.exited.then(() => (gone = true));
  const m = await until(() => /Listening on https:\/\/localhost:(\d+)/.exec(s.stdout()) ?? gone, 'the server to listen', 20_000);
  if (m === true) throw new Error(`server exited before listening:\n${s.stdout()}\n${s.stderr()}`);
  return Object.assign(s, { tlsPort: Number(m[1]) });
}

/**
 * Opens a TLS connection to 127.0.0.1:`port` that trusts `ca` alone
 * (server name `localhost`, ALPN `http/1.1`), after its handshake.
 */
export function tlsConnect(port: number, ca: string, extra: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['http/1.1'], ...extra }, () => resolve(s));
    s.once('error', reject);
  });
}

/** The test suites' raw HTTP/1.1 client ({@link RawClient}) over a TLS connection. */
export async function tlsClient(port: number, ca: string): Promise<RawClient & { socket: tls.TLSSocket }> {
  const socket = await tlsConnect(port, ca);
  // RawClient reads and writes any net.Socket; a TLSSocket is one (its constructor is private to keep plain use one call).
  return new (RawClient as unknown as new (s: net.Socket) => RawClient & { socket: tls.TLSSocket })(socket);
}

/** What a command printed and how it ended. */
export interface Ran {
  readonly code: number;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs `cmd args` with `input` on stdin, without blocking the test's event loop. */
export function run(cmd: string, args: string[], input = '', timeoutMs = 30_000): Promise<Ran> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
    child.stdin!.end(input);
  });
}

/** `curl -sS --cacert ca` with `args`: status line and body are the caller's to read. */
export function curl(ca: string, args: string[], timeoutMs?: number): Promise<Ran> {
  return run('curl', ['-sS', '--cacert', ca, ...args], '', timeoutMs);
}

/** `openssl s_client` to 127.0.0.1:`port` with `args`; stdin closed at once, so it exits after the handshake. */
export function sClient(port: number, args: string[]): Promise<Ran> {
  return run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost', ...args], '', 10_000);
}

/** The certificate a new connection to `port` is served (not verified). */
export function servedCertificate(port: number): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false }, () => {
      resolve(s.getPeerX509Certificate()!);
      s.destroy();
    });
    s.once('error', reject);
  });
}

/** The SHA-256 fingerprint of the certificate a new connection to `port` is served. */
export async function servedFingerprint(port: number): Promise<string> {
  return (await servedCertificate(port)).fingerprint256;
}
