// Stage kh7 "Connection closure": a request with `Connection: close` is
// answered with `Connection: close`, then the server closes the socket
// (RFC 9112 §9.6); requests before it keep the connection open.
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

test('the tester\'s scenario: two connections opened up front, each: a request (kept), then one with Connection: close (closed)', async () => {
  const conns = await Promise.all([0, 1].map(() => RawClient.connect(server.port)));
  for (const [i, c] of conns.entries()) {
    c.send(`GET /echo/first-${i} HTTP/1.1\r\nHost: localhost:4221\r\n\r\n`);
    const first = await c.readResponse();
    expect(first.statusLine).toBe('HTTP/1.1 200 OK');
    expect(first.body.toString()).toBe(`first-${i}`);
    expect(first.header('Connection')).toBeUndefined();
    await c.expectOpenAndQuiet(50);

    c.send(`GET /user-agent HTTP/1.1\r\nHost: localhost:4221\r\nUser-Agent: closer-${i}\r\nConnection: close\r\n\r\n`);
    const second = await c.readResponse();
    expect(second.statusLine).toBe('HTTP/1.1 200 OK');
    expect(second.header('Content-Type')).toBe('text/plain');
    expect(second.header('Connection')).toBe('close');
    expect(second.body.toString()).toBe(`closer-${i}`);
    await c.expectClosed();
    c.close();
  }
});

test.each(['close', 'Close', 'CLOSE', 'keep-alive, close', 'upgrade,close'])(
  'Connection: %s on the first request closes after its response',
  async (value) => {
    const c = await RawClient.connect(server.port);
    c.send(`GET / HTTP/1.1\r\nHost: localhost\r\nConnection: ${value}\r\n\r\n`);
    const res = await c.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.header('Connection')).toBe('close');
    expect(res.header('Content-Length')).toBe('0');
    await c.expectClosed();
    c.close();
  },
);

test('a request pipelined after the closing one is not answered', async () => {
  const c = await RawClient.connect(server.port);
  c.send(
    'GET /echo/last HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' +
      'GET /echo/ignored HTTP/1.1\r\nHost: localhost\r\n\r\n',
  );
  const res = await c.readResponse();
  expect(res.body.toString()).toBe('last');
  expect(res.header('Connection')).toBe('close');
  await c.expectClosed(); // fails on any bytes of a second response
  c.close();
});

test('a large response is delivered whole before the close (no reset loses its tail)', async () => {
  const big = 'z'.repeat(6000);
  const c = await RawClient.connect(server.port);
  c.send(`GET /echo/${big} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  const res = await c.readResponse();
  expect(res.body.toString()).toBe(big);
  await c.expectClosed();
  c.close();
});

test('a closing request whose body is never read (405) is still answered with Connection: close, then closed', async () => {
  const c = await RawClient.connect(server.port);
  c.send('POST /echo/x HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello');
  const res = await c.readResponse();
  expect(res.status).toBe(405);
  expect(res.header('Connection')).toBe('close');
  await c.expectClosed();
  c.close();
});

test('HTTP/1.0 without keep-alive: answered, then closed', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET /echo/old HTTP/1.0\r\nHost: localhost\r\n\r\n');
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.body.toString()).toBe('old');
  await c.expectClosed();
  c.close();
});

test('a client that half-closes after its request still gets the response, then the close', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET /echo/half HTTP/1.1\r\nHost: localhost\r\n\r\n');
  c.socket.end();
  const res = await c.readResponse();
  expect(res.body.toString()).toBe('half');
  await c.expectClosed();
  c.close();
});

test('a malformed request is answered 400 with Connection: close, then closed', async () => {
  const c = await RawClient.connect(server.port);
  c.send('GET / HTTP/1.1\r\nHost: localhost\r\nBad Header: x\r\n\r\n');
  const res = await c.readResponse();
  expect(res.statusLine).toBe('HTTP/1.1 400 Bad Request');
  expect(res.header('Connection')).toBe('close');
  expect(res.header('Content-Length')).toBe(String(res.body.length));
  await c.expectClosed();
  c.close();
});
