// --auth-writes: public reads, authenticated writes. Every method that is
// not safe needs a login (WebDAV's MKCOL and MOVE, unknown methods too);
// GET, HEAD and OPTIONS work for anyone; a write with credentials goes
// through.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type RunningServer } from '../helpers/server';
import { curl } from '../files/support';
import { launch, removeScratch, scratch, tree } from '../uploads/helpers';
import { basic, bcryptHash, exchange } from './helpers';

let dir: string;
let users: string;
let server: RunningServer;
let port: number;
beforeAll(async () => {
  dir = scratch('auth-writes-');
  users = path.join(scratch('auth-writes-users-'), 'htpasswd');
  writeFileSync(path.join(dir, 'public.txt'), 'for everyone');
  writeFileSync(users, `writer:${bcryptHash('write-pw')}\n`);
  server = await launch(['--directory', dir, '--auth-file', users, '--auth-writes']);
  port = server.port;
});
afterAll(async () => {
  await server?.stop();
  removeScratch(dir);
  removeScratch(path.dirname(users));
});

test('reads need no login: GET, HEAD, OPTIONS of files, the listing, the other routes', async () => {
  expect((await curl([`http://127.0.0.1:${port}/files/public.txt`])).stdout.toString()).toBe('for everyone');
  for (const head of ['HEAD /files/public.txt', 'GET /files/', 'OPTIONS /files/public.txt', 'GET /echo/x', 'GET /user-agent', 'GET /']) {
    const r = await exchange(port, `${head} HTTP/1.1\r\nHost: h\r\nUser-Agent: t\r\n\r\n`);
    expect([head, r.status < 300]).toEqual([head, true]);
  }
});

test('every write without a login is 401 and changes nothing: POST, PUT, DELETE, PATCH, MKCOL, MOVE, an unknown method', async () => {
  for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'MKCOL', 'MOVE', 'BREW']) {
    const r = await exchange(port, `${method} /files/public.txt HTTP/1.1\r\nHost: h\r\nDestination: /files/moved.txt\r\nContent-Length: 4\r\n\r\n`, 'evil');
    expect([method, r.status, r.header('www-authenticate')]).toEqual([method, 401, 'Basic realm="files", charset="UTF-8"']);
  }
  const wrong = await curl(['-u', 'writer:nope', '-X', 'DELETE', '-w', '%{http_code}', `http://127.0.0.1:${port}/files/public.txt`]);
  expect(wrong.stdout.toString()).toContain('401');
  expect(tree(dir)).toEqual(['public.txt']);
  expect(readFileSync(path.join(dir, 'public.txt'), 'utf8')).toBe('for everyone');
});

test('with the login, uploads and deletes go through (curl -u, and curl --anyauth)', async () => {
  const put = await curl(['-u', 'writer:write-pw', '--data-binary', 'fresh', '-X', 'PUT', '-w', '%{http_code}', `http://127.0.0.1:${port}/files/new.txt`]);
  expect(put.stdout.toString()).toBe('201');
  expect(readFileSync(path.join(dir, 'new.txt'), 'utf8')).toBe('fresh');
  const del = await curl(['--anyauth', '-u', 'writer:write-pw', '-X', 'DELETE', '-w', '%{http_code}', '-o', '/dev/null', `http://127.0.0.1:${port}/files/new.txt`]);
  expect(del.stdout.toString()).toBe('204');
  expect(tree(dir)).toEqual(['public.txt']);
  const r = await exchange(port, `GET /files/public.txt HTTP/1.1\r\nHost: h\r\nAuthorization: ${basic('writer', 'wrong')}\r\n\r\n`);
  expect(r.status).toBe(200); // a read stays public even with bad credentials attached
});
