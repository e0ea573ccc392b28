/**
 * Shared pieces of the file-serving tests: a temporary directory tree, a
 * one-request raw client, curl, and a multipart/byteranges reader.
 */

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { RawClient, type WireResponse } from '../helpers/wire';

/** A fresh temporary directory; remove it with `fs.rmSync(dir, { recursive: true })`. */
export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** Writes `files` (relative path → content) under `dir`, creating folders. */
export function writeTree(dir: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const full = path.join(dir, rel);
    fs.mkdirSync(path.dirname(full), { recursive: true });
    fs.writeFileSync(full, content);
  }
}

/**
 * Sends one request on a new connection and reads its response.
 * @param target the request-target, sent as is (latin1).
 * @param headers extra header fields.
 */
export async function send(
  port: number,
  target: string,
  headers: Record<string, string> = {},
  method = 'GET',
  version = 'HTTP/1.1',
): Promise<WireResponse> {
  const c = await RawClient.connect(port);
  try {
    let head = `${method} ${target} ${version}\r\nHost: localhost\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    c.send(`${head}\r\n`);
    return await c.readResponse({ head: method === 'HEAD', timeoutMs: 15000 });
  } finally {
    c.close();
  }
}

/** What a finished curl run left. */
export interface CurlResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Runs the real curl with `args`; never rejects (the exit code is in the result). */
export function curl(args: string[], timeoutMs = 20000): Promise<CurlResult> {
  return new Promise((resolve) => {
    execFile('curl', ['--silent', '--show-error', ...args], { encoding: 'buffer', timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

/** One part of a multipart/byteranges body. */
export interface BytePart {
  headers: Record<string, string>;
  body: Buffer;
}

/**
 * Splits a multipart/byteranges body (RFC 9110 §14.6, RFC 2046 §5.1) into
 * its parts, strictly: every delimiter, header line and the close
 * delimiter must be where the grammar puts them.
 * @throws Error on anything malformed.
 */
export function parseByteranges(contentType: string, body: Buffer): BytePart[] {
  const m = /^multipart\/byteranges;\s*boundary=("?)([^";]+)\1$/i.exec(contentType);
  if (m === null) throw new Error(`not multipart/byteranges: ${contentType}`);
  const delimiter = Buffer.from(`--${m[2]}`, 'latin1');
  const parts: BytePart[] = [];
  let pos = body.indexOf(delimiter);
  if (pos !== 0) throw new Error('body does not start with the boundary delimiter');
  for (;;) {
    pos += delimiter.length;
    if (body.subarray(pos, pos + 2).toString('latin1') === '--') {
      if (body.subarray(pos + 2).toString('latin1') !== '\r\n') throw new Error('junk after the close delimiter');
      return parts;
    }
    if (body.subarray(pos, pos + 2).toString('latin1') !== '\r\n') throw new Error('no CRLF after a delimiter');
    const headEnd = body.indexOf('\r\n\r\n', pos + 2);
    const headers: Record<string, string> = {};
    for (const line of body.subarray(pos + 2, headEnd).toString('latin1').split('\r\n')) {
      const c = line.indexOf(':');
      headers[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
    }
    const start = headEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), start);
    if (next === -1) throw new Error('part without a following delimiter');
    parts.push({ headers, body: body.subarray(start, next) });
    pos = next + 2;
  }
}
