/**
 * Shared pieces of the WebDAV tests: one request with the real curl, and
 * what the served folder holds.
 */

import fs from 'node:fs';
import { curl } from './support';

/** What curl got: the status code, the body, and the response's header fields (lower-case names). */
export interface DavResult {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string>;
}

/**
 * Runs `curl -X method` on `url` with `headers` (`--path-as-is`, so curl
 * sends the path as written) and returns what it got.
 * @param extra more curl arguments, e.g. `['--data-binary', 'x']`.
 * @throws Error when curl itself fails (no connection).
 */
export async function dav(method: string, url: string, headers: Record<string, string> = {}, extra: string[] = []): Promise<DavResult> {
  const args = ['--path-as-is', '-X', method, '-D', '-', '-o', '-', '-w', '\n%{http_code}'];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  const r = await curl([...args, ...extra, url]);
  if (r.code !== 0) throw new Error(`curl ${method} ${url} failed (${r.code}): ${r.stderr}`);
  // stdout: the head (-D -), the body, a newline and the status code (-w).
  const out = r.stdout.toString('utf8');
  const headEnd = out.indexOf('\r\n\r\n');
  const nl = out.lastIndexOf('\n');
  const fields: Record<string, string> = {};
  for (const line of out.slice(0, headEnd).split('\r\n')) {
    const c = line.indexOf(':');
    if (c > 0) fields[line.slice(0, c).toLowerCase()] = line.slice(c + 1).trim();
  }
  return { status: Number(out.slice(nl + 1)), body: out.slice(headEnd + 4, nl), headers: fields };
}

/** Every path under `dir`, relative, sorted; folders end in `/`; symlinks are not followed. */
export { tree } from '../uploads/helpers';

/** The text of `file`, or `null` when nothing has that name. */
export function read(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
