// --root serves a site at /: index.html, 301 to the slash-ended folder,
// listings; stage routes keep precedence; without --root, GET / stays the
// stage's empty 200.
import path from 'node:path';
import { ROOT, type RunningServer, startServer } from '../helpers/server';
import { curl, send } from './support';

const SITE = path.join(ROOT, 'tests', 'fixtures', 'site');
let site: RunningServer;
let plain: RunningServer;

beforeAll(async () => {
  [site, plain] = await Promise.all([startServer(['--root', SITE]), startServer([])]);
});
afterAll(async () => {
  await Promise.all([site.stop(), plain.stop()]);
});

test('GET / serves the root index.html', async () => {
  const res = await send(site.port, '/');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('text/html; charset=utf-8');
  expect(res.body.toString()).toContain('<h1 id="title">It works</h1>');
});

test('assets come with their media types', async () => {
  expect((await send(site.port, '/style.css')).header('Content-Type')).toBe('text/css; charset=utf-8');
  const png = await send(site.port, '/img/logo.png');
  expect(png.header('Content-Type')).toBe('image/png');
  expect(png.body.subarray(1, 4).toString()).toBe('PNG');
});

test('a folder without its slash is redirected with 301; with it, it is listed', async () => {
  const redirect = await send(site.port, '/docs');
  expect(redirect.status).toBe(301);
  expect(redirect.header('Location')).toBe('/docs/');
  const listing = await send(site.port, '/docs/');
  expect(listing.status).toBe(200);
  expect(listing.body.toString()).toContain('<title>Index of /docs/</title>');
  expect(listing.body.toString()).toContain('href="readme.txt"');
  expect(listing.body.toString()).not.toContain('hidden-note');
});

test('curl -L follows the redirect to the listing', async () => {
  const r = await curl(['-L', '-w', '%{url_effective}', `http://127.0.0.1:${site.port}/docs/guides`]);
  expect(r.stdout.toString()).toContain('href="guide-10.txt"');
  expect(r.stdout.toString().endsWith('/docs/guides/')).toBe(true);
});

test('stage routes keep precedence over the site', async () => {
  const echo = await send(site.port, '/echo/abc');
  expect(echo.header('Content-Type')).toBe('text/plain');
  expect(echo.body.toString()).toBe('abc');
  expect((await send(site.port, '/user-agent', { 'User-Agent': 'ua/1' })).body.toString()).toBe('ua/1');
  expect((await send(site.port, '/files/x')).status).toBe(404); // no --directory
});

test('missing paths are 404, and other methods on site paths are 404 as well', async () => {
  expect((await send(site.port, '/nope.html')).status).toBe(404);
  expect((await send(site.port, '/index.html', {}, 'DELETE')).status).toBe(404);
});

test('caching and ranges work for site files too', async () => {
  const first = await send(site.port, '/style.css');
  expect((await send(site.port, '/style.css', { 'If-None-Match': first.header('ETag')! })).status).toBe(304);
  const part = await send(site.port, '/style.css', { Range: 'bytes=0-1' });
  expect(part.status).toBe(206);
  expect(part.body.toString()).toBe('/*');
});

test('without --root, GET / is the stage\'s empty 200 and other paths are 404', async () => {
  const res = await send(plain.port, '/');
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Length')).toBe('0');
  expect(res.header('Content-Type')).toBeUndefined();
  expect((await send(plain.port, '/index.html')).status).toBe(404);
});

test('--root names must be existing folders (one clear line, non-zero exit)', async () => {
  await expect(startServer(['--root', path.join(SITE, 'no-such-dir')])).rejects.toThrow(/--root .*no such directory/);
  await expect(startServer(['--root', path.join(SITE, 'index.html')])).rejects.toThrow(/--root .*not a directory/);
});
