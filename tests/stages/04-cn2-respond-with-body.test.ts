// Stage cn2 "Respond with body": GET /echo/{str} → 200, text/plain, the string.
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

test('GET /echo/{str} answers the string as text/plain with its length', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET /echo/grape HTTP/1.1\r\nHost: localhost:4221\r\n\r\n');
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('text/plain');
  expect(res.header('Content-Length')).toBe('5');
  expect(res.body.toString()).toBe('grape');
  expect(res.header('X-Content-Type-Options')).toBe('nosniff'); // every response (README "Browsers"); the tester ignores it
  expect(res.header('Content-Security-Policy')).toBeUndefined(); // only uploads are sandboxed
  await c.expectOpenAndQuiet();
  c.close();
});

test('the string is percent-decoded and Content-Length counts UTF-8 bytes', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET /echo/h%C3%A9llo%20w HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const res = await c.readResponse();
  expect(res.status).toBe(200);
  expect(res.body.toString('utf8')).toBe('héllo w');
  expect(res.header('Content-Length')).toBe(String(Buffer.byteLength('héllo w')));
  c.close();
});

test.each([
  ['abc', 'abc'],
  ['mango/pineapple', 'mango/pineapple'], // the rest of the path, slashes included
  ['abc?x=1', 'abc'], // the query is not part of the path
  ['', ''], // empty string: still framed with Content-Length: 0
  ['%E2%98%83%20snow', '\u2603 snow'],
])('GET /echo/%s answers %j with its UTF-8 length', async (arg, want) => {
  const c = await RawClient.connect(server.port);
  c.send(`GET /echo/${arg} HTTP/1.1\r\nHost: localhost:4221\r\n\r\n`);
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('text/plain');
  expect(res.header('Content-Length')).toBe(String(Buffer.byteLength(want)));
  expect(res.body.toString('utf8')).toBe(want);
  await c.expectOpenAndQuiet(50);
  c.close();
});

test('a malformed percent-encoding is 400 Bad Request (framed, then closed), not a crash', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET /echo/%zz HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 400 Bad Request');
  expect(res.header('Content-Length')).toBe(String(res.body.length));
  expect(res.header('Connection')).toBe('close');
  await c.expectClosed();
  c.close();
  // The server is still serving.
  const d = await RawClient.connect(server.port);
  d.send('GET /echo/ok HTTP/1.1\r\nHost: localhost\r\n\r\n');
  expect((await d.readResponse()).body.toString()).toBe('ok');
  d.close();
});

test('a 4 KiB string comes back whole; a request-target over the 8 KiB limit is 414', async () => {
  const s = 'x'.repeat(4096);
  const c = await RawClient.connect(server.port);
  c.send(`GET /echo/${s} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  const res = await c.readResponse();
  expect(res.status).toBe(200);
  expect(res.header('Content-Length')).toBe('4096');
  expect(res.body.toString()).toBe(s);
  c.send(`GET /echo/${'y'.repeat(9000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  const big = await c.readResponse();
  expect(big.statusLine).toBe('HTTP/1.1 414 URI Too Long');
  await c.expectClosed();
  c.close();
});
