// CORS over the wire (Fetch standard, CORS protocol): preflights answered
// by the policy itself (never by the routes, nor by authentication wrapped
// inside it), Access-Control-Allow-Origin on every answer, errors
// included, `*` without credentials or listed origins reflected with
// credentials and `Vary: Origin`; and the `--cors` command line.
import fs from 'node:fs';
import { execFile } from 'node:child_process';
import { cors, parseOrigin } from '../../app/access/cors';
import { Fields } from '../../app/http/fields';
import type { Request } from '../../app/http/request';
import type { Response } from '../../app/http/response';
import { KNOWN_METHODS } from '../../app/http/router';
import { type RunningServer, serverCommand, startServer } from '../helpers/server';
import { type WireResponse } from '../helpers/wire';
import { send, tempDir, writeTree } from '../files/support';

const APP = 'https://app.example';
const OTHER = 'http://127.0.0.1:9999';
const PAGE_HEADERS = ['Content-Type', 'If-Match', 'If-None-Match', 'Destination', 'Overwrite', 'Depth', 'Range', 'Authorization'];
let files: string;
let anyOrigin: RunningServer;
let listed: RunningServer;
let off: RunningServer;

beforeAll(async () => {
  files = tempDir('cors');
  writeTree(files, { 'a.txt': 'some text' });
  [anyOrigin, listed, off] = await Promise.all([
    startServer(['--directory', files, '--cors']),
    startServer(['--directory', files, '--cors', `${APP},https://second.example`, '--cors', OTHER, '--cors', 'HTTPS://Third.Example:443/']),
    startServer(['--directory', files]),
  ]);
});
afterAll(async () => {
  await Promise.all([anyOrigin?.stop(), listed?.stop(), off?.stop()]);
  fs.rmSync(files, { recursive: true, force: true });
});

const preflight = (s: RunningServer, origin: string, method = 'DELETE', target = '/files/a.txt') =>
  send(s.port, target, { Origin: origin, 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': 'authorization,if-match' }, 'OPTIONS');
const list = (v: string | undefined) => (v ?? '').split(',').map((s) => s.trim().toLowerCase());
const acao = (r: WireResponse) => r.header('Access-Control-Allow-Origin');

describe('--cors (any origin)', () => {
  test('a preflight is answered by the policy: 204, every method, the page\'s request headers, no credentials, no Vary', async () => {
    const res = await preflight(anyOrigin, APP);
    expect(res.status).toBe(204);
    expect(acao(res)).toBe('*');
    expect(list(res.header('Access-Control-Allow-Methods'))).toEqual(expect.arrayContaining(['get', 'head', 'put', 'post', 'delete', 'options']));
    expect(list(res.header('Access-Control-Allow-Methods'))).not.toContain('connect');
    expect(list(res.header('Access-Control-Allow-Headers'))).toEqual(expect.arrayContaining(PAGE_HEADERS.map((h) => h.toLowerCase())));
    expect(Number(res.header('Access-Control-Max-Age'))).toBeGreaterThan(0);
    expect(res.header('Access-Control-Allow-Credentials')).toBeUndefined();
    expect(res.header('Vary')).toBeUndefined();
    expect(res.header('Allow')).toBeUndefined(); // not the routes' OPTIONS answer: nothing inside the policy saw it
    expect(res.header('X-Content-Type-Options')).toBe('nosniff');
  });

  test('every answer allows any origin and exposes ETag, Content-Range, Content-Length; the same with or without Origin', async () => {
    for (const headers of [{ Origin: APP }, {}] as Record<string, string>[]) {
      for (const [target, status] of [['/files/a.txt', 200], ['/files/nothing', 404], ['/echo/hi', 200]] as const) {
        const res = await send(anyOrigin.port, target, headers);
        expect(res.status).toBe(status);
        expect(acao(res)).toBe('*');
        expect(list(res.header('Access-Control-Expose-Headers'))).toEqual(expect.arrayContaining(['etag', 'content-range', 'content-length']));
        expect(list(res.header('Vary'))).not.toContain('origin');
      }
    }
  });

  test('a plain OPTIONS (not a preflight) still reaches the routes', async () => {
    const res = await send(anyOrigin.port, '/files/a.txt', {}, 'OPTIONS');
    expect(res.status).toBe(204);
    expect(res.header('Allow')).toContain('DELETE');
  });
});

describe('--cors ORIGIN,... (listed origins)', () => {
  test.each([APP, 'https://second.example', OTHER, 'https://third.example'])('a preflight from %s: reflected, with credentials and Vary: Origin', async (origin) => {
    const res = await preflight(listed, origin, 'PUT');
    expect(res.status).toBe(204);
    expect(acao(res)).toBe(origin);
    expect(res.header('Access-Control-Allow-Credentials')).toBe('true');
    expect(list(res.header('Vary'))).toContain('origin');
  });

  test('an answer to a listed origin reflects it, allows credentials, exposes fields; Vary keeps Accept-Encoding and adds Origin', async () => {
    const res = await send(listed.port, '/echo/hi', { Origin: APP });
    expect(res.body.toString()).toBe('hi');
    expect(acao(res)).toBe(APP);
    expect(res.header('Access-Control-Allow-Credentials')).toBe('true');
    expect(res.header('Vary')).toBe('Accept-Encoding, Origin');
    const file = await send(listed.port, '/files/a.txt', { Origin: APP, Range: 'bytes=0-3' });
    expect([file.status, file.body.toString(), acao(file)]).toEqual([206, 'some', APP]);
    expect(list(file.header('Access-Control-Expose-Headers'))).toEqual(expect.arrayContaining(['etag', 'content-range']));
  });

  test('errors carry it too, so a page can read why: 404, 405, and a 400 the handler throws', async () => {
    for (const [target, method, status] of [['/files/nothing', 'GET', 404], ['/echo/x', 'PUT', 405], ['/files/%zz', 'GET', 400]] as const) {
      const res = await send(listed.port, target, { Origin: APP }, method);
      expect([res.status, acao(res)]).toEqual([status, APP]);
    }
  });

  test('an origin not listed gets no Access-Control fields, its preflight goes on to the routes; Vary: Origin says the answer depends on it', async () => {
    for (const origin of ['https://evil.example', 'https://app.example.evil.example', 'null', `${APP}:443x`]) {
      const res = await send(listed.port, '/files/a.txt', { Origin: origin });
      expect(res.status).toBe(200);
      expect(res.fieldLines.filter(([n]) => /^access-control-/i.test(n))).toEqual([]);
      expect(list(res.header('Vary'))).toContain('origin');
      const pre = await preflight(listed, origin);
      expect(acao(pre)).toBeUndefined();
      expect(pre.header('Allow')).toContain('DELETE'); // the routes' own OPTIONS answer
    }
  });

  test('a request without Origin (curl) is served as ever, with Vary: Origin', async () => {
    const res = await send(listed.port, '/files/a.txt');
    expect([res.status, res.body.toString(), acao(res)]).toEqual([200, 'some text', undefined]);
    expect(list(res.header('Vary'))).toContain('origin');
  });
});

test('without --cors, no response has an Access-Control field, and a preflight is just an OPTIONS', async () => {
  const pre = await preflight(off, APP);
  expect(pre.fieldLines.filter(([n]) => /^access-control-/i.test(n))).toEqual([]);
  expect(pre.header('Allow')).toContain('DELETE');
  const res = await send(off.port, '/files/a.txt', { Origin: APP });
  expect(res.fieldLines.filter(([n]) => /^access-control-/i.test(n))).toEqual([]);
  expect(list(res.header('Vary'))).not.toContain('origin');
});

test('a preflight allows every method the router knows (MKCOL, MOVE once WebDAV adds them), never CONNECT or TRACE', () => {
  const req = { method: 'OPTIONS', path: '/files/x', fields: new Fields() } as unknown as Request;
  req.fields.append('origin', APP);
  req.fields.append('access-control-request-method', 'MKCOL');
  const reached: string[] = [];
  const handler = cors({ origins: '*', methods: [...KNOWN_METHODS, 'MKCOL', 'MOVE'] })((r) => {
    reached.push(r.method);
    return { status: 401 }; // what authentication, wrapped inside, would say
  });
  const res = handler(req) as Response;
  expect(res.status).toBe(204);
  expect(list(res.headers!['Access-Control-Allow-Methods'])).toEqual(expect.arrayContaining(['mkcol', 'move', 'patch']));
  expect(list(res.headers!['Access-Control-Allow-Methods'])).not.toContain('trace');
  expect(list(res.headers!['Access-Control-Allow-Methods'])).not.toContain('connect');
  expect(reached).toEqual([]);
});

/** Runs the server with `args`; resolves with its exit code and stderr (a bad option exits at once). */
function runServer(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const [cmd, argv] = serverCommand('node', ['--host', '127.0.0.1', '--port', '0', ...args]);
  return new Promise((resolve) => {
    const child = execFile(cmd, argv, { timeout: 10_000 }, (_err, _out, stderr) => resolve({ code: child.exitCode, stderr }));
  });
}

test('an origin is written as browsers send it: HTTPS://Third.Example:443/ is https://third.example', () => {
  expect(parseOrigin('HTTPS://Third.Example:443/')).toBe('https://third.example');
  expect(parseOrigin('http://127.0.0.1:8080')).toBe('http://127.0.0.1:8080');
  expect(parseOrigin('*')).toBe('*');
});

test.each(['https://app.example/path', 'ftp://app.example', 'app.example', 'https://user@app.example', 'https://app.example/?q', 'null'])(
  '--cors %s is not an origin: one line of explanation, exit 2',
  async (bad) => {
    expect(() => parseOrigin(bad)).toThrow(/^--cors .*: not an origin \(scheme:\/\/host\[:port\]/);
    const { code, stderr } = await runServer(['--cors', bad]);
    expect(code).toBe(2);
    expect(stderr).toBe(`error: --cors ${bad}: not an origin (scheme://host[:port], e.g. https://app.example:8443) (see --help)\n`);
  },
);
