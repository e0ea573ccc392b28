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
