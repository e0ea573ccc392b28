// Stage fs3 "Read header": GET /user-agent answers the User-Agent value as
// text/plain with its length; field names are case-insensitive.
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

async function userAgent(fieldLines: string): Promise<WireResponse> {
  const c = await RawClient.connect(server.port);
  c.send(`GET /user-agent HTTP/1.1\r\nHost: localhost:4221\r\n${fieldLines}\r\n`);
  const res = await c.readResponse();
  await c.expectOpenAndQuiet(50);
  c.close();
  return res;
}

test('answers the User-Agent value with text/plain and its length', async () => {
  const res = await userAgent('User-Agent: grape/mango-pear\r\n');
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('text/plain');
  expect(res.header('Content-Length')).toBe('16');
  expect(res.body.toString()).toBe('grape/mango-pear');
});

test.each(['user-agent', 'USER-AGENT', 'uSeR-aGeNt'])('the field name %s is matched case-insensitively', async (name) => {
  const res = await userAgent(`Accept: */*\r\n${name}: banana/1.2\r\nX-Other: 1\r\n`);
  expect(res.status).toBe(200);
  expect(res.body.toString()).toBe('banana/1.2');
});

test('optional whitespace around the value is not part of it; inner spaces are', async () => {
  const ua = 'Mozilla/5.0 (X11; Linux x86_64) curl/8.5.0';
  const res = await userAgent(`User-Agent: \t ${ua} \t\r\n`);
  expect(res.body.toString()).toBe(ua);
  expect(res.header('Content-Length')).toBe(String(ua.length));
});

test('no User-Agent gives 200 with an empty, framed body', async () => {
  const res = await userAgent('');
  expect(res.status).toBe(200);
  expect(res.header('Content-Length')).toBe('0');
  expect(res.body.length).toBe(0);
});

test('the value is echoed byte for byte, non-ASCII (UTF-8, obs-text) included', async () => {
  const c = await RawClient.connect(server.port);
  const value = Buffer.concat([Buffer.from('caf\u00e9/1 \u2603 ', 'utf8'), Buffer.from([0xff, 0x80])]);
  c.send(Buffer.concat([Buffer.from('GET /user-agent HTTP/1.1\r\nHost: x\r\nUser-Agent: '), value, Buffer.from('\r\n\r\n')]));
  const res = await c.readResponse();
  expect(res.status).toBe(200);
  expect(res.header('Content-Length')).toBe(String(value.length));
  expect(res.body.equals(value)).toBe(true);
  await c.expectOpenAndQuiet(50);
  c.close();
});
