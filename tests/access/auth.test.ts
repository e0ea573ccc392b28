// --auth USER:PASSWORD and --auth-file FILE (htpasswd: bcrypt, SHA-256 and
// SHA-512 crypt): HTTP Basic authentication (RFC 7617) for every request,
// over real sockets and real curl. A refused upload writes nothing and its
// content is never asked for; the connection is closed or stays usable.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { type RunningServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { curl } from '../files/support';
import { launch, removeScratch, scratch, tree } from '../uploads/helpers';
import { basic, bcryptHash, exchange, shaCrypt } from './helpers';

const CHALLENGE = 'Basic realm="files", charset="UTF-8"';

let dir: string;
let usersFile: string;
let server: RunningServer;
let port: number;

beforeAll(async () => {
  dir = scratch('auth-');
  usersFile = path.join(scratch('auth-users-'), 'users.htpasswd');
  const [sha256, sha512] = shaCrypt([
    ['s3cret-256', '$5$abcdefgh'],
    ['s3cret-512:with:colons', '$6$rounds=6000$saltsalt'],
  ]);
  writeFileSync(
    usersFile,
    [
      '\uFEFF# made by the test, as an editor that writes a byte order mark would',
      `alice:${bcryptHash('wonder land')} `, // a trailing blank
      '',
      `bob:${sha256}\r`, // a CRLF line
      `carol:${sha512}`,
      `zoë:${bcryptHash('ünïcödé')}`,
      `frank:${bcryptHash('large-pw', 8)}`, // used once, so its check is never a cached one
      // Known-answer vectors: OpenBSD's bcrypt test and Drepper's SHA-crypt spec.
      'kat-bcrypt:$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW',
      'kat-sha256:$5$saltstring$5B8vYYiY.CVt1RlTTf8KbXBH3hsxY/GNooZaBBGWEc5',
      'kat-sha256-rounds:$5$rounds=10000$saltstringsaltst$3xv.VbSHBb41AL9AvLeujZkZRBAwqFMz2.opqey6IcA',
      'kat-sha512:$6$saltstring$svn8UoSVapNtMuq1ukKS4tPQd8iKwSMHWjl/O817G3uBnIFNjnQJuesI68u4OTLiBFdcbYEdFCoEOfaS35inz1',
      '',
    ].join('\n'),
  );
  server = await launch(['--directory', dir, '--auth-file', usersFile, '--auth', 'dave:pass:word', '--auth', 'erin:another']);
  port = server.port;
});
afterAll(async () => {
  await server?.stop();
  removeScratch(dir);
  removeScratch(path.dirname(usersFile));
});

const url = (p: string) => `http://127.0.0.1:${port}${p}`;

test('every kind of hash, and --auth passwords, let their user in with curl -u', async () => {
  const logins: Array<[string, string]> = [
    ['alice', 'wonder land'],
    ['bob', 's3cret-256'],
    ['carol', 's3cret-512:with:colons'],
    ['zoë', 'ünïcödé'],
    ['kat-bcrypt', 'U*U'],
    ['kat-sha256', 'Hello world!'],
    ['kat-sha256-rounds', 'Hello world!'],
    ['kat-sha512', 'Hello world!'],
    ['dave', 'pass:word'],
    ['erin', 'another'],
  ];
  for (const [user, password] of logins) {
    const r = await curl(['-u', `${user}:${password}`, '-w', '%{http_code}', url('/echo/in')]);
    expect([user, r.stdout.toString()]).toEqual([user, 'in200']);
  }
});

test('no credentials, a wrong password, an unknown user, another scheme: 401 with the Basic challenge and a short text body', async () => {
  const cases = [
    undefined,
    basic('alice', 'wonder lanD'),
    basic('alice', ''),
    basic('Alice', 'wonder land'), // user names are case-sensitive
    basic('mallory', 'wonder land'),
    basic('dave', 'pass'),
    basic('bob', 's3cret-256 '),
    'Bearer abc',
    'Basic !!!notbase64',
    `Basic ${Buffer.from('no colon').toString('base64')}`,
    `Basic ${Buffer.from([0x61, 0x3a, 0xff, 0xfe]).toString('base64')}`, // not UTF-8
  ];
  // Each from its own loopback address: more than ten failures from one would be throttled (auth-throttle.test.ts).
  for (const [i, auth] of cases.entries()) {
    const r = await curl(['--interface', `127.0.0.${20 + i}`, '-D', '-', ...(auth === undefined ? [] : ['-H', `Authorization: ${auth}`]), url('/echo/x')]);
    const text = r.stdout.toString('latin1');
    expect([auth, text.split('\r\n')[0], /^WWW-Authenticate: (.*)\r$/m.exec(text)?.[1], /^Content-Type: (.*)\r$/m.exec(text)?.[1], text.split('\r\n\r\n')[1]]).toEqual([
      auth,
      'HTTP/1.1 401 Unauthorized',
      CHALLENGE,
      'text/plain',
      'authentication required\n',
    ]);
  }
});

test('every method and path needs a login: HEAD, OPTIONS, OPTIONS *, the 404 fallback, /', async () => {
  for (const head of ['HEAD /echo/x', 'OPTIONS /files/', 'OPTIONS *', 'GET /nothing-here', 'GET /', 'TRACE /', 'DELETE /files/x', 'BREW /files/x']) {
    const r = await exchange(port, `${head} HTTP/1.1\r\nHost: h\r\n\r\n`);
    expect([head, r.status, r.header('www-authenticate')]).toEqual([head, 401, CHALLENGE]);
  }
  const ok = await exchange(port, `OPTIONS * HTTP/1.1\r\nHost: h\r\nAuthorization: ${basic('erin', 'another')}\r\n\r\n`);
  expect(ok.status).toBe(204);
});

test('curl --anyauth uploads after the challenge; a plain PUT without credentials stores nothing', async () => {
  const src = path.join(path.dirname(usersFile), 'upload.bin');
  writeFileSync(src, Buffer.alloc(200_000, 7));
  const denied = await curl(['-T', src, '-w', '%{http_code}', '-o', '/dev/null', url('/files/denied.bin')]);
  expect(denied.stdout.toString()).toBe('401');
  const put = await curl(['--anyauth', '-u', 'alice:wonder land', '-T', src, '-w', '%{http_code}', url('/files/any.bin')]);
  expect(put.stdout.toString()).toBe('201');
  expect(readFileSync(path.join(dir, 'any.bin')).equals(readFileSync(src))).toBe(true);
  expect(existsSync(path.join(dir, 'denied.bin'))).toBe(false);
});

test('a large upload sent at once (no Expect) waits, unread, while its login is verified, then is stored whole', async () => {
  const src = path.join(path.dirname(usersFile), 'large.bin');
  const data = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7919) % 251;
  writeFileSync(src, data);
  const put = await curl(['-u', 'frank:large-pw', '-H', 'Expect:', '-T', src, '-w', '%{http_code}', url('/files/large.bin')]);
  expect(put.stdout.toString()).toBe('201');
  expect(readFileSync(path.join(dir, 'large.bin')).equals(data)).toBe(true);
});

test('Expect: 100-continue without credentials: 401 instead of 100 Continue, the connection closes, nothing is written', async () => {
  const c = await RawClient.connect(port);
  c.send('PUT /files/expect.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n');
  const r = await c.readResponse();
  expect(r.status).toBe(401);
  expect(r.statusLine).not.toContain('100');
  expect(r.header('connection')).toBe('close');
  await c.expectClosed();
  c.close();
  expect(tree(dir)).not.toContain('expect.txt');
});

test('content sent without credentials is discarded and the connection stays usable (Content-Length and chunked)', async () => {
  const c = await RawClient.connect(port);
  c.send('PUT /files/cl.txt HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world');
  expect((await c.readResponse()).status).toBe(401);
  c.send('POST /files/ch.txt HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
  expect((await c.readResponse()).status).toBe(401);
  // The discarded content was not taken for a request: the next one is answered.
  c.send(`PUT /files/ok.txt HTTP/1.1\r\nHost: h\r\nAuthorization: ${basic('carol', 's3cret-512:with:colons')}\r\nContent-Length: 2\r\n\r\nok`);
  expect((await c.readResponse()).status).toBe(201);
  await c.expectOpenAndQuiet();
  c.close();
  expect(tree(dir)).not.toContain('cl.txt');
  expect(tree(dir)).not.toContain('ch.txt');
  expect(readFileSync(path.join(dir, 'ok.txt'), 'utf8')).toBe('ok');
});

test('with credentials, Expect: 100-continue gets its 100 Continue once the login is verified', async () => {
  const c = await RawClient.connect(port);
  c.send(`PUT /files/later.txt HTTP/1.1\r\nHost: h\r\nAuthorization: ${basic('bob', 's3cret-256')}\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n`);
  const cont = await c.readResponse();
  expect(cont.statusLine).toBe('HTTP/1.1 100 Continue');
  c.send('later');
  expect((await c.readResponse()).status).toBe(201);
  c.close();
  expect(readFileSync(path.join(dir, 'later.txt'), 'utf8')).toBe('later');
});
