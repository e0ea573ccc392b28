// Router unit tests (RFC 9110 §9): 501 for unknown methods, 405 with Allow,
// HEAD answered by GET handlers, OPTIONS from the routes, OPTIONS *.
import { RequestParser } from '../../app/http/parser';
import { type Request, RequestBody } from '../../app/http/request';
import type { Response } from '../../app/http/response';
import { type Route, Router, allowedMethods, withFilters } from '../../app/http/router';

/** A real request head, parsed from its request-line. */
function request(method: string, target: string): Request {
  const p = new RequestParser();
  p.push(Buffer.from(`${method} ${target} HTTP/1.1\r\nHost: x\r\n\r\n`, 'latin1'));
  const ev = p.next();
  if (ev === null || ev.type !== 'head') throw new Error('no head');
  return { ...ev.head, body: new RequestBody(0, () => undefined) };
}

const answer = (tag: string) => (): Response => ({ status: 200, body: tag });
const routes: Route[] = [
  { path: '/', methods: { GET: answer('root') } },
  { path: '/echo/', prefix: true, methods: { GET: answer('echo') } },
  { path: '/files/', prefix: true, methods: { GET: answer('get file'), POST: answer('post file'), DELETE: answer('delete file') } },
  { path: '/head-only', methods: { HEAD: answer('explicit head'), GET: answer('get') } },
];
const router = new Router(routes, () => ({ status: 404 }));

async function handle(method: string, target: string): Promise<Response> {
  return await router.handle(request(method, target));
}

function allowOf(res: Response): string[] {
  return (res.headers?.['Allow'] ?? '').split(',').map((m) => m.trim()).sort();
}

test('exact routes, then prefixes; anything else goes to the fallback', async () => {
  expect((await handle('GET', '/')).body).toBe('root');
  expect((await handle('GET', '/echo/abc')).body).toBe('echo');
  expect((await handle('GET', '/files/a/b')).body).toBe('get file');
  expect((await handle('POST', '/files/a')).body).toBe('post file');
  expect((await handle('GET', '/echo')).status).toBe(404);
  expect((await handle('GET', '/nothing')).status).toBe(404);
  expect((await handle('POST', '/nothing')).status).toBe(404);
});

test.each(['BREW', 'get', 'PROPFIND', 'X'])('an unknown method (%s; methods are case-sensitive) is 501 Not Implemented', async (m) => {
  const res = await handle(m, '/');
  expect(res.status).toBe(501);
  expect(res.headers?.['Content-Type']).toBe('text/plain');
  expect(String(res.body)).toContain(m);
});

test('a known method a route does not serve is 405 with Allow listing what it does serve', async () => {
  const res = await handle('POST', '/echo/x');
  expect(res.status).toBe(405);
  expect(allowOf(res)).toEqual(['GET', 'HEAD', 'OPTIONS']);
  const put = await handle('PUT', '/files/x');
  expect(put.status).toBe(405);
  expect(allowOf(put)).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST']);
});

test('HEAD falls back to the GET handler, unless the route has its own', async () => {
  expect((await handle('HEAD', '/echo/x')).body).toBe('echo');
  expect((await handle('HEAD', '/head-only')).body).toBe('explicit head');
});

test('OPTIONS on a route is 204 with its Allow', async () => {
  const res = await handle('OPTIONS', '/files/x');
  expect(res.status).toBe(204);
  expect(res.body).toBeUndefined();
  expect(allowOf(res)).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST']);
});

test('OPTIONS * describes the whole server: every method any route serves', async () => {
  const res = await handle('OPTIONS', '*');
  expect(res.status).toBe(204);
  expect(allowOf(res)).toEqual(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST']);
});

test('CONNECT (authority-form) is 501', async () => {
  expect((await handle('CONNECT', 'localhost:443')).status).toBe(501);
});

test('allowedMethods adds HEAD for GET and always OPTIONS', () => {
  expect(allowedMethods({ path: '/', methods: { GET: answer('') } }).sort()).toEqual(['GET', 'HEAD', 'OPTIONS']);
  expect(allowedMethods({ path: '/', methods: { POST: answer('') } }).sort()).toEqual(['OPTIONS', 'POST']);
});

test('withFilters applies filters in order, and stays synchronous when everything is', async () => {
  const tag = (t: string) => (_req: Request, res: Response): Response => ({ ...res, body: `${String(res.body)}+${t}` });
  const sync = withFilters(router.handle, [tag('a'), tag('b')]);
  const out = sync(request('GET', '/'));
  expect(out).not.toBeInstanceOf(Promise);
  expect((out as Response).body).toBe('root+a+b');
  const later = withFilters(router.handle, [tag('a'), async (req, res) => tag('async')(req, res), tag('c')]);
  const p = later(request('GET', '/'));
  expect(p).toBeInstanceOf(Promise);
  expect((await p).body).toBe('root+a+async+c');
});
