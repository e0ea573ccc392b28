// Stage ih0 "Extract URL path": an unknown path is 404 Not Found, `/` is
// still 200; only the path decides, not the query.
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

async function statusOf(target: string, method = 'GET'): Promise<string> {
  const c = await RawClient.connect(server.port);
  c.send(`${method} ${target} HTTP/1.1\r\nHost: localhost:4221\r\n\r\n`);
  const res = await c.readResponse();
  await c.expectOpenAndQuiet(50);
  c.close();
  return res.statusLine;
}

test('GET /<random word> is 404 Not Found with Content-Length 0, then GET / is 200 OK', async () => {
  const word = `banana${Math.floor(Math.random() * 1e6)}`;
  const c = await RawClient.connect(server.port);
  c.send(`GET /${word} HTTP/1.1\r\nHost: localhost:4221\r\n\r\n`);
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 404 Not Found');
  expect(res.header('Content-Length')).toBe('0');
  expect(res.body.length).toBe(0);
  await c.expectOpenAndQuiet();
  c.close();
  expect(await statusOf('/')).toBe('HTTP/1.1 200 OK');
});

test('404 and 200 alternate on one connection', async () => {
  const c = await RawClient.connect(server.port);
  for (const [target, want] of [['/nope', 404], ['/', 200], ['/a/b/c', 404], ['/', 200]] as const) {
    c.send(`GET ${target} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expect((await c.readResponse()).status).toBe(want);
  }
  await c.expectOpenAndQuiet();
  c.close();
});

test.each([
  ['/index.html', 404],
  ['/echo', 404], // the echo route is /echo/{str}
  ['/user-agent/x', 404],
  ['/files', 404],
  ['//', 404],
  ['/?q=1', 200], // the query is not part of the path
  ['/nothing?x=/', 404],
  ['http://localhost:4221/', 200], // absolute-form names the same path
  ['http://localhost:4221/nope', 404],
])('GET %s → %i', async (target, want) => {
  expect(await statusOf(target)).toBe(want === 200 ? 'HTTP/1.1 200 OK' : 'HTTP/1.1 404 Not Found');
});

test('an unknown path is 404 whatever the method', async () => {
  expect(await statusOf('/missing', 'POST')).toBe('HTTP/1.1 404 Not Found');
  expect(await statusOf('/missing', 'DELETE')).toBe('HTTP/1.1 404 Not Found');
});
