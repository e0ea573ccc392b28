// Slowloris: hundreds of connections that trickle a header section one
// byte at a time. A normal client is served while they are all still
// open, and each of them gets 408 and is closed by the header timeout
// (RFC 9110 §15.5.9); connections that send nothing at all are closed by
// the keep-alive timeout.
import net from 'node:net';
import { type RunningServer, startServer } from '../helpers/server';
import { request } from '../helpers/wire';

const SLOW = 300;
const SILENT = 20;
const HEADERS_TIMEOUT_MS = 2000;

let server: RunningServer;
beforeAll(async () => {
  server = await startServer(['--headers-timeout', String(HEADERS_TIMEOUT_MS), '--keep-alive-timeout', String(HEADERS_TIMEOUT_MS)]);
});
afterAll(() => server.stop());

interface Slow {
  socket: net.Socket;
  received: string;
  closed: Promise<void>;
  isClosed: boolean;
}

function connect(): Promise<Slow> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let markClosed: () => void = () => undefined;
    const s: Slow = { socket, received: '', closed: new Promise((r) => (markClosed = r)), isClosed: false };
    socket.on('data', (d: Buffer) => (s.received += d.toString('latin1')));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      s.isClosed = true;
      markClosed();
    });
    socket.once('connect', () => resolve(s));
    socket.once('error', reject);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(`${SLOW} trickling clients do not hold up a normal request, and all get 408 and are closed`, async () => {
  const slow: Slow[] = [];
  for (let i = 0; i < SLOW; i++) slow.push(await connect());
  const silent = await Promise.all(Array.from({ length: SILENT }, connect));
  const header = 'GET /echo/slow HTTP/1.1\r\nHost: slow.test\r\nX-Padding: ' + 'p'.repeat(200);
  let sent = 0;
  const trickle = setInterval(() => {
    // One more byte on every open slow connection, never completing the head.
    const c = header[sent % header.length]!;
    sent++;
    for (const s of slow) if (!s.isClosed) s.socket.write(c);
  }, 50);
  try {
    await sleep(200); // every slow connection has begun its head
    const res = await request(server.port, 'GET /echo/fast HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(res.body.toString()).toBe('fast');
    // Served while every slow client was still trickling: no one waited for them.
    expect(slow.filter((s) => s.isClosed).length).toBe(0);

    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.all(slow.map((s) => s.closed)),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${slow.filter((s) => !s.isClosed).length} slow connections still open`)), HEADERS_TIMEOUT_MS + 10_000);
      }),
    ]).finally(() => clearTimeout(timer));
  } finally {
    clearInterval(trickle);
    for (const s of slow) if (!s.isClosed) s.socket.destroy();
  }
  for (const s of slow) {
    expect(s.received).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    expect(s.received).toMatch(/\r\nConnection: close\r\n/i);
  }
  await Promise.all(silent.map((s) => s.closed)); // by the keep-alive timeout
  for (const s of silent) expect(s.received).toBe('');
  const after = await request(server.port, 'GET /echo/after HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(after.body.toString()).toBe('after');
}, 60_000);
