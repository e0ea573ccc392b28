// Stage ag9 "Persistent connections": HTTP/1.1 connections stay open
// between requests (RFC 9112 §9.3); every response is framed so the next
// one can be found; requests may be pipelined or split across segments.
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

type Exchange = { request: string; status: number; body: string; contentType?: string };

/** One of the tester's three kinds of request, with the answer it expects. */
function randomExchange(i: number): Exchange {
  const word = `${['mango', 'grape', 'lemon'][i % 3]}-${Math.floor(Math.random() * 1e6)}`;
  switch (Math.floor(Math.random() * 3)) {
    case 0:
      return { request: `GET /echo/${word} HTTP/1.1\r\nHost: localhost:4221\r\n\r\n`, status: 200, body: word, contentType: 'text/plain' };
    case 1:
      return { request: `GET /user-agent HTTP/1.1\r\nHost: localhost:4221\r\nUser-Agent: ${word}/1.0\r\n\r\n`, status: 200, body: `${word}/1.0`, contentType: 'text/plain' };
    default:
      return { request: 'GET / HTTP/1.1\r\nHost: localhost:4221\r\n\r\n', status: 200, body: '' };
  }
}

async function expectAnswer(c: RawClient, ex: Exchange): Promise<void> {
  const res = await c.readResponse();
  expect(res.status).toBe(ex.status);
  expect(res.header('Content-Type')).toBe(ex.contentType);
  expect(res.header('Content-Length')).toBe(String(Buffer.byteLength(ex.body)));
  expect(res.body.toString()).toBe(ex.body);
  expect(res.header('Connection')).toBeUndefined();
}

test('two requests in a row (random mix of /echo, /user-agent, /) on one connection, which stays open', async () => {
  for (let round = 0; round < 5; round++) {
    const c = await RawClient.connect(server.port);
    for (const ex of [randomExchange(0), randomExchange(1)]) {
      c.send(ex.request);
      await expectAnswer(c, ex);
      await c.expectOpenAndQuiet(30);
    }
    c.close();
  }
});

test('every kind of request, 40 in a row on one connection, including 404s', async () => {
  const c = await RawClient.connect(server.port);
  for (let i = 0; i < 40; i++) {
    if (i % 7 === 3) {
      c.send(`GET /missing-${i} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
      const res = await c.readResponse();
      expect(res.status).toBe(404);
      expect(res.header('Content-Length')).toBe('0');
      continue;
    }
    const ex = randomExchange(i);
    c.send(ex.request);
    await expectAnswer(c, ex);
  }
  await c.expectOpenAndQuiet();
  c.close();
});

test('pipelined requests in one segment are answered in order, with nothing extra', async () => {
  const exchanges = Array.from({ length: 8 }, (_, i) => randomExchange(i));
  const c = await RawClient.connect(server.port);
  c.send(exchanges.map((e) => e.request).join(''));
  for (const ex of exchanges) await expectAnswer(c, ex);
  await c.expectOpenAndQuiet();
  c.close();
});

test('a request sent one byte per segment is answered once, and the next one too', async () => {
  const c = await RawClient.connect(server.port);
  c.socket.setNoDelay(true);
  const ex = randomExchange(0);
  for (const byte of Buffer.from(ex.request, 'latin1')) {
    c.send(Buffer.from([byte]));
    await new Promise((r) => setTimeout(r, 2));
  }
  await expectAnswer(c, ex);
  const next = randomExchange(1);
  c.send(next.request);
  await expectAnswer(c, next);
  await c.expectOpenAndQuiet();
  c.close();
});

test('a request\'s unread body (405 to POST /echo) is skipped, not taken for the next request', async () => {
  const c = await RawClient.connect(server.port);
  const body = 'GET /echo/smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
  c.send(`POST /echo/abc HTTP/1.1\r\nHost: localhost\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 405 Method Not Allowed');
  expect(res.header('Allow')).toContain('GET');
  const ex = randomExchange(2);
  c.send(ex.request);
  await expectAnswer(c, ex);
  await c.expectOpenAndQuiet();
  c.close();
});

test('an idle connection is still served after a pause (well within the keep-alive timeout)', async () => {
  const c = await RawClient.connect(server.port);
  const first = randomExchange(0);
  c.send(first.request);
  await expectAnswer(c, first);
  await c.expectOpenAndQuiet(1000);
  const second = randomExchange(1);
  c.send(second.request);
  await expectAnswer(c, second);
  c.close();
});

test('HTTP/1.0 persists only with Connection: keep-alive, which the response confirms', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET /echo/one HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const one = await c.readResponse();
  expect(one.body.toString()).toBe('one');
  expect(one.header('Connection')?.toLowerCase()).toBe('keep-alive');
  await c.expectOpenAndQuiet(50);
  c.send('GET /echo/two HTTP/1.0\r\n\r\n'); // no keep-alive this time: the server closes after
  const two = await c.readResponse();
  expect(two.body.toString()).toBe('two');
  await c.expectClosed();
  c.close();
});
