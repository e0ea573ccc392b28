/**
 * `--trace FILE`: every request and response head exactly as it crossed
 * the wire, with the connection it belongs to. Each record is one line of
 * description, then the head's bytes untouched (CRLFs, obs-text and all),
 * then a newline:
 *
 *     2026-11-30T19:04:05.067Z #3 127.0.0.1:50123 > 127.0.0.1:4221 request 78
 *     GET /echo/abc HTTP/1.1␍␊Host: x␍␊…␍␊␍␊
 *
 * `>` is client to server (`request`, or `unparsed` for what the parser
 * rejected), `<` server to client (`response`); the last number is the
 * head's length in bytes, so a reader never has to guess where it ends.
 * One exception to "untouched": credentials. The value of every
 * `Authorization` and `Proxy-Authorization` field line is written as its
 * scheme and `[redacted]` (`Authorization: Basic [redacted]`), and the
 * length counts the redacted bytes.
 * Written through sonic-boom, reopened on SIGHUP like the access log.
 */

import fs from 'node:fs';
import sonicBoom, { type SonicBoom as SonicBoomClass } from 'sonic-boom';
import type { ConnectionEnds, TraceRecord, TraceReporter } from '../http/connection.js';

const SonicBoom = (sonicBoom as unknown as { SonicBoom: typeof SonicBoomClass }).SonicBoom;

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The description line of `rec` (without its newline). */
export function traceLine(rec: TraceRecord): string {
  const c: ConnectionEnds = rec.connection;
  const arrow = rec.kind === 'response' ? '<' : '>';
  return `${new Date(rec.time).toISOString()} #${rec.connectionId} ${endpoint(c.remoteAddress, c.remotePort)} ${arrow} ${endpoint(c.localAddress, c.localPort)} ${rec.kind} ${rec.head.length}`;
}

// A field line naming credentials, at the start of the head or of a line
// (LF or a bare CR, for what the parser rejected), up to the end of its
// line; obs-fold continuation lines are part of the value.
const CREDENTIALS_RE = /(^|[\r\n])((?:proxy-)?authorization[ \t]*:[ \t]*)([!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]+)?[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*/gi;

/**
 * `head` with the value of every `Authorization` and `Proxy-Authorization`
 * field line replaced by its auth-scheme (if any) and `[redacted]`
 * (RFC 9110 §11.6.2, §11.7.2). @returns `head` itself when it names none.
 */
export function redactCredentials(head: Buffer): Buffer {
  const text = head.toString('latin1');
  if (!/authorization/i.test(text)) return head;
  return Buffer.from(text.replace(CREDENTIALS_RE, (_m, start: string, name: string, scheme: string | undefined) => `${start}${name}${scheme ?? ''}[redacted]`), 'latin1');
}

/**
 * Opens `file` for appending and returns the tracer for `createHttpServer`.
 * @throws Error when the file cannot be opened.
 */
export function openTrace(file: string): { tracer: TraceReporter; flush: () => Promise<void> } {
  fs.closeSync(fs.openSync(file, 'a')); // fail now, with the reason
  const out = new SonicBoom({ dest: file, append: true, contentMode: 'buffer' });
  out.on('error', (err: Error) => process.stderr.write(`warning: trace: ${err.message}\n`));
  process.on('SIGHUP', () => out.reopen());
  const tracer: TraceReporter = (rec) => {
    const raw = typeof rec.head === 'string' ? Buffer.from(rec.head, 'latin1') : rec.head;
    const head = rec.kind === 'response' ? raw : redactCredentials(raw);
    (out.write as unknown as (b: Buffer) => boolean)(Buffer.concat([Buffer.from(`${traceLine({ ...rec, head })}\n`, 'latin1'), head, NEWLINE]));
  };
  const flush = async () => {
    try {
      out.flushSync();
    } catch {
      // not open yet, or an error already reported
    }
  };
  return { tracer, flush };
}

const NEWLINE = Buffer.from('\n');
