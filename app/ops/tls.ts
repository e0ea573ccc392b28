/**
 * The process's side of HTTPS: where the certificate comes from
 * (`--tls-cert`/`--tls-key` files, or one made at startup by
 * `--tls-self-signed`), its SHA-256 fingerprint for the banner, and
 * reloading the files on SIGHUP without dropping a connection.
 *
 * Under `--workers`, the primary loads (or makes) the certificate first,
 * so a bad one stops startup with one line; a self-signed one reaches the
 * workers through their environment, so every worker serves the same
 * certificate and the banner's fingerprint holds for all. The primary
 * forwards SIGHUP to the workers, and each reloads the files itself.
 */

import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { secureContext, type TlsCredentials, type TlsListener } from '../http/tls.js';

/** Where the certificate comes from. */
export type TlsSource =
  /** PEM files, read at startup and again on SIGHUP. */
  | { readonly kind: 'files'; readonly cert: string; readonly key: string }
  /** Made at startup for `localhost`, this host's name and its addresses. */
  | { readonly kind: 'self-signed' };

/** Credentials ready to serve, and how the banner describes them. */
export interface LoadedTls extends TlsCredentials {
  /** SHA-256 fingerprint of the server certificate, `AB:CD:...` (95 characters). */
  readonly fingerprint: string;
  /** e.g. `certificate from /etc/x.pem` or `self-signed certificate for localhost, ...`. */
  readonly description: string;
}

/** Environment variable carrying a self-signed certificate and key (JSON) from the primary to its workers. */
const SELF_SIGNED_ENV = 'HTTP_SERVER_TLS_SELF_SIGNED';

/** How long a self-signed certificate is valid, in days. */
const SELF_SIGNED_DAYS = 365;

/**
 * SHA-256 fingerprint of the first certificate of a PEM chain, as
 * browsers and `openssl x509 -fingerprint -sha256` show it.
 * @throws Error when `cert` holds no parsable certificate.
 */
export function fingerprint(cert: string | Buffer): string {
  return new X509Certificate(cert).fingerprint256;
}

/**
 * Reads `--tls-cert` and `--tls-key` and checks that they make a usable
 * pair (both parse, the key matches the certificate).
 * @throws Error with a one-line reason naming the file at fault.
 */
export function readCredentials(certFile: string, keyFile: string): TlsCredentials {
  const read = (option: string, file: string) => {
    try {
      return readFileSync(file);
    } catch (e) {
      throw new Error(`--${option} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const creds = { cert: read('tls-cert', certFile), key: read('tls-key', keyFile) };
  try {
    fingerprint(creds.cert);
  } catch (e) {
    throw new Error(`--tls-cert ${certFile}: not a PEM certificate (${(e as Error).message})`);
  }
  try {
    secureContext(creds);
  } catch (e) {
    throw new Error(`--tls-key ${keyFile} with --tls-cert ${certFile}: ${(e as Error).message}`);
  }
  return creds;
}

/** The names a self-signed certificate covers: `localhost`, the host name, every address but IPv6 link-local ones. */
export function selfSignedNames(interfaces = os.networkInterfaces(), hostname = os.hostname()): { dns: string[]; ips: string[] } {
  const dns = [...new Set(['localhost', hostname].filter((h) => h !== ''))];
  const ips = new Set<string>(['127.0.0.1', '::1']);
  for (const infos of Object.values(interfaces)) {
    for (const i of infos ?? []) if (!/^fe[89ab]/i.test(i.address)) ips.add(i.address);
  }
  return { dns, ips: [...ips] };
}

/** Makes an EC P-256 certificate signed by its own key, for {@link selfSignedNames}. */
async function makeSelfSigned(): Promise<TlsCredentials> {
  const { generate } = await import('selfsigned'); // loaded only when asked for: plain startup stays lean
  const { dns, ips } = selfSignedNames();
  const now = new Date();
  const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate: now,
    notAfterDate: new Date(now.getTime() + SELF_SIGNED_DAYS * 86_400_000),
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...dns.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  });
  return { cert: pems.cert, key: pems.private };
}

/**
 * The credentials to serve with. For `self-signed`, a worker takes the
 * primary's certificate from its environment; anyone else makes one and
 * leaves it in the environment for the workers it will start.
 * @throws Error with a one-line reason (unreadable or unusable files).
 */
export async function loadTls(source: TlsSource): Promise<LoadedTls> {
  if (source.kind === 'files') {
    const creds = readCredentials(source.cert, source.key);
    return { ...creds, fingerprint: fingerprint(creds.cert), description: `certificate from ${source.cert}` };
  }
  const inherited = process.env[SELF_SIGNED_ENV];
  let creds: TlsCredentials;
  if (inherited !== undefined) creds = JSON.parse(inherited) as TlsCredentials;
  else {
    creds = await makeSelfSigned();
    process.env[SELF_SIGNED_ENV] = JSON.stringify(creds);
  }
  const { dns, ips } = selfSignedNames();
  return { ...creds, fingerprint: fingerprint(creds.cert), description: `self-signed certificate for ${[...dns, ...ips].join(', ')}` };
}

/**
 * On SIGHUP, reads the certificate files again and serves them to new
 * connections; open connections keep theirs. Says on stderr what happened:
 * a bad new pair (unreadable, unparsable, key not matching) keeps the old
 * one in service. Beside the access log's own SIGHUP listener (it reopens
 * its file): both run on the one signal.
 */
export function reloadOnHangup(listener: TlsListener, source: TlsSource & { kind: 'files' }): void {
  process.on('SIGHUP', () => {
    try {
      const creds = readCredentials(source.cert, source.key);
      listener.setCredentials(creds);
      console.error(`TLS certificate reloaded from ${source.cert} (SHA-256 ${fingerprint(creds.cert)})`);
    } catch (e) {
      console.error(`warning: TLS certificate not reloaded: ${(e as Error).message}; still serving the previous one`);
    }
  });
}
