// Stage ul1 "Concurrent persistent connections": several connections open
// at once, several requests on each, interleaved; every response is right
// and each connection is independent of the others.
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

function shuffled<T>(xs: T[]): T[] {
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function ask(c: RawClient, conn: number, round: number): Promise<void> {
  if (round % 2 === 0) {
    c.send(`GET /echo/c${conn}-r${round} HTTP/1.1\r\nHost: localhost:4221\r\n\r\n`);
  } else {
    c.send(`GET /user-agent HTTP/1.1\r\nHost: localhost:4221\r\nUser-Agent: c${conn}-r${round}\r\n\r\n`);
  }
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('text/plain');
  expect(res.body.toString()).toBe(`c${conn}-r${round}`);
  expect(res.header('Content-Length')).toBe(String(res.body.length));
}

test.each([2, 3])('%i connections, 4 requests each, interleaved in random order: each gets its own answers', async (n) => {
  const clients = await Promise.all(Array.from({ length: n }, () => RawClient.connect(server.port)));
  for (let round = 0; round < 4; round++) {
    for (const i of shuffled([...clients.keys()])) await ask(clients[i]!, i, round);
  }
  for (const c of clients) await c.expectOpenAndQuiet(30);
  for (const c of clients) c.close();
});

test('requests in flight on all connections at once are answered on the right connection', async () => {
  const clients = await Promise.all(Array.from({ length: 5 }, () => RawClient.connect(server.port)));
  // Each connection pipelines 5 requests; all are sent before any answer is read.
  clients.forEach((c, i) => {
    c.send(Array.from({ length: 5 }, (_, r) => `GET /echo/c${i}-r${r} HTTP/1.1\r\nHost: localhost\r\n\r\n`).join(''));
  });
  await Promise.all(
    clients.map(async (c, i) => {
      for (let r = 0; r < 5; r++) expect((await c.readResponse()).body.toString()).toBe(`c${i}-r${r}`);
      await c.expectOpenAndQuiet(30);
    }),
  );
  for (const c of clients) c.close();
});

test('one connection closing (by the client or with Connection: close) leaves the others open and served', async () => {
  const [a, b, c] = await Promise.all([0, 1, 2].map(() => RawClient.connect(server.port)));
  await ask(a!, 0, 0);
  await ask(b!, 1, 0);
  await ask(c!, 2, 0);
  a!.close();
  b!.send('GET /echo/bye HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
  expect((await b!.readResponse()).header('Connection')).toBe('close');
  await b!.expectClosed();
  await ask(c!, 2, 1);
  await ask(c!, 2, 2);
  await c!.expectOpenAndQuiet(50);
  c!.close();
});

test('a connection stuck in the middle of a request does not hold up the others', async () => {
  const stuck = await RawClient.connect(server.port);
  stuck.send('GET /echo/stuck HTTP/1.1\r\nHost: loc');
  const others = await Promise.all([1, 2].map(() => RawClient.connect(server.port)));
  for (let round = 0; round < 3; round++) for (const [i, o] of others.entries()) await ask(o, i, round);
  stuck.send('alhost\r\n\r\n');
  expect((await stuck.readResponse()).body.toString()).toBe('stuck');
  for (const o of [stuck, ...others]) o.close();
});
