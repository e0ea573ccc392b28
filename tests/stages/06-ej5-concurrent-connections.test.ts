// Stage ej5 "Concurrent connections": several connections open at once,
// requests sent in reverse order of connecting, each answered; the server
// keeps running after they close, and a slow client blocks no one.
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

async function roundInReverse(n: number): Promise<void> {
  const clients = await Promise.all(Array.from({ length: n }, () => RawClient.connect(server.port)));
  for (const c of [...clients].reverse()) c.send('GET / HTTP/1.1\r\nHost: localhost:4221\r\n\r\n');
  for (const c of [...clients].reverse()) {
    const res = await c.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.header('Content-Length')).toBe('0');
    await c.expectOpenAndQuiet(20);
  }
  for (const c of clients) c.close();
}

test.each([2, 3])('%i connections at once, GET / sent in reverse order, twice over', async (n) => {
  await roundInReverse(n);
  await roundInReverse(n); // the server survived the first round's closes
  expect(server.process.exitCode).toBeNull();
});

test('a client that sent half a request does not delay the others', async () => {
  const slow = await RawClient.connect(server.port);
  slow.send('GET /echo/slow HTTP/1.1\r\nHo');
  await new Promise((r) => setTimeout(r, 50));
  const fast = await RawClient.connect(server.port);
  fast.send('GET /echo/fast HTTP/1.1\r\nHost: localhost\r\n\r\n');
  expect((await fast.readResponse()).body.toString()).toBe('fast');
  expect(slow.pending.length).toBe(0); // nothing answered yet on the slow one
  slow.send('st: localhost\r\n\r\n');
  expect((await slow.readResponse()).body.toString()).toBe('slow');
  fast.close();
  slow.close();
});

test('a client that vanishes mid-request does not disturb one that stays', async () => {
  const stays = await RawClient.connect(server.port);
  const goes = await RawClient.connect(server.port);
  goes.send('POST /files/x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 100\r\n\r\nabc');
  goes.close();
  stays.send('GET /echo/still-here HTTP/1.1\r\nHost: localhost\r\n\r\n');
  expect((await stays.readResponse()).body.toString()).toBe('still-here');
  await stays.expectOpenAndQuiet(50);
  stays.close();
});

test('30 connections answered concurrently, each with its own body', async () => {
  const clients = await Promise.all(Array.from({ length: 30 }, () => RawClient.connect(server.port)));
  clients.forEach((c, i) => c.send(`GET /echo/conn-${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`));
  const bodies = await Promise.all(clients.map(async (c) => (await c.readResponse()).body.toString()));
  expect(bodies).toEqual(clients.map((_, i) => `conn-${i}`));
  for (const c of clients) c.close();
});
