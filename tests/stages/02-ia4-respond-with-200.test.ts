// Stage ia4 "Respond with 200": GET / → exactly `HTTP/1.1 200 OK`, framed,
// and (the tester's anti-cheat) no Date and no Server header.
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

test('GET / answers 200 OK with an empty, framed body and no Date or Server header', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET / HTTP/1.1\r\nHost: localhost:4221\r\n\r\n');
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Length')).toBe('0');
  expect(res.body.length).toBe(0);
  expect(res.header('Date')).toBeUndefined();
  expect(res.header('Server')).toBeUndefined();
  expect(res.header('Transfer-Encoding')).toBeUndefined();
  await c.expectOpenAndQuiet();
  c.close();
});

test('the head is well-formed: CRLF line endings, one space after the colon, nothing before the status-line', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET / HTTP/1.1\r\nHost: localhost:4221\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n');
  const res = await c.readResponse();
  expect(res.rawHead.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
  expect(res.rawHead.endsWith('\r\n\r\n')).toBe(true);
  // No bare LF: every LF is preceded by CR.
  expect(res.rawHead.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
  for (const line of res.rawHead.split('\r\n').slice(1, -2)) expect(line).toMatch(/^[A-Za-z-]+: \S/);
  c.close();
});

test('an HTTP/1.0 request is still answered with an HTTP/1.1 status-line', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET / HTTP/1.0\r\n\r\n');
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Date')).toBeUndefined();
  expect(res.header('Server')).toBeUndefined();
  await c.expectClosed();
  c.close();
});

test('HEAD / answers 200 with the same head as GET and no body bytes', async () => {
  const c = await RawClient.connect(server.port);
  c.send('HEAD / HTTP/1.1\r\nHost: localhost\r\n\r\n');
  const res = await c.readResponse({ head: true });
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Length')).toBe('0');
  await c.expectOpenAndQuiet();
  c.close();
});
