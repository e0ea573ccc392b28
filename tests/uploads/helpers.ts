/**
 * Helpers shared by the upload tests: scratch folders, a server launcher
 * that can run the server under a wrapper command (`setpriv`, `prlimit`),
 * raw uploads, and checks that no partial file was left behind.
 */

import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningServer, type Runtime, startServer } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';

/** A new empty folder under the system temp dir; removed by {@link removeScratch}. */
export function scratch(prefix = 'uploads-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Removes a scratch folder and everything in it. */
export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Every path under `dir`, relative, sorted; folders end in `/`. */
export function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string) => {
    for (const e of readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) {
        out.push(`${r}/`);
        walk(r);
      } else out.push(r);
    }
  };
  walk('');
  return out.sort();
}

/** Temporary upload files (dot-prefixed `.upload-*.partial`) anywhere under `dir`. */
export function partials(dir: string): string[] {
  return tree(dir).filter((p) => /(^|\/)\.upload-[0-9a-f]+\.partial$/.test(p));
}

/** Polls `cond` every 25 ms until it holds; throws after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts the server like `startServer`, optionally under a wrapper that
 * execs it (so the PID is the server's), e.g. `['setpriv', '--reuid=nobody', ...]`.
 * @param args server options; `--host 127.0.0.1 --port 0` are added.
 */
export function launch(args: string[], opts: { wrapper?: string[]; rt?: Runtime } = {}): Promise<RunningServer> {
  return startServer(['--host', '127.0.0.1', '--port', '0', ...args], opts.rt ?? 'node', { wrapper: opts.wrapper });
}

/**
 * Sends one request with `body` (Content-Length framing unless the
 * headers say chunked, in which case `body` must already be chunked) on a
 * new connection and reads the final response.
 * @param headers extra header lines, e.g. `{ 'If-None-Match': '*' }`.
 */
export async function send(
  port: number,
  method: string,
  target: string,
  body: Buffer | string = '',
  headers: Record<string, string> = {},
): Promise<WireResponse> {
  const c = await RawClient.connect(port);
  try {
    const h = { Host: 'localhost', ...headers };
    const chunked = Object.keys(h).some((k) => k.toLowerCase() === 'transfer-encoding');
    const bytes = typeof body === 'string' ? Buffer.from(body) : body;
    let head = `${method} ${target} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(h)) head += `${k}: ${v}\r\n`;
    if (!chunked && (bytes.length > 0 || method === 'PUT' || method === 'POST')) head += `Content-Length: ${bytes.length}\r\n`;
    c.send(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), bytes]));
    return await c.readResponse({ head: method === 'HEAD', timeoutMs: 10_000 });
  } finally {
    c.close();
  }
}

/** `body` in chunked coding, cut into chunks of `size` bytes (RFC 9112 §7.1). */
export function chunked(body: Buffer, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) {
    const c = body.subarray(i, i + size);
    parts.push(Buffer.from(`${c.length.toString(16)}\r\n`), c, Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

/** The file's bytes, or `null` when it does not exist. */
export function contents(file: string): Buffer | null {
  try {
    return readFileSync(file);
  } catch {
    return null;
  }
}

/** The resident set size of process `pid` in bytes (VmRSS of /proc/pid/status). */
export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m === null ? 0 : Number(m[1]) * 1024;
}

/** True when this process may mount a tmpfs (root with CAP_SYS_ADMIN, no seccomp block). */
export function canMount(): boolean {
  const dir = scratch('mount-probe-');
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir], { stdio: 'ignore' });
    execFileSync('umount', [dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  } finally {
    removeScratch(dir);
  }
}

/** Size of a file in bytes, or -1 when it does not exist. */
export function sizeOf(file: string): number {
  try {
    return statSync(file).size;
  } catch {
    return -1;
  }
}
