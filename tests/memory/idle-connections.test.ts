// 10,000 idle keep-alive connections, each after one complete exchange,
// keep the server under 150 MB resident, under Node and under Bun alike;
// the connections stay open and usable while idle.
import net from 'node:net';
import { type RunningServer, type Runtime, startServer } from '../helpers/server';
import { mb, memory, openFilesLimit } from './process-status';

const CONNECTIONS = 10_000;
const LIMIT_MB = 150;
/** Connects in flight at once: below the listen backlog (511), so no SYN is dropped and retried a second later. */
const IN_FLIGHT = 200;
/** File descriptors beyond the connections: stdio, the listener, the runtime's own. */
const FD_MARGIN = 200;

/** A keep-alive connection that has completed one exchange (`GET /echo/abc` → 200 "abc"). */
interface Idle {
  socket: net.Socket;
  /** Set when the connection closed, from either side. */
  closed: boolean;
  /** Sends `GET /echo/<word>` and resolves with the raw response once it is complete. */
  ask(word: string): Promise<string>;
}

/** Opens a connection, sends one request, resolves once its response is complete; the connection stays open. */
function openIdle(port: number): Promise<Idle> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let pending: { want: number; resolve: (raw: string) => void } | undefined;
    let buf = '';
    const idle: Idle = {
      socket,
      closed: false,
      ask(word) {
        buf = '';
        socket.write(`GET /echo/${word} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
        return new Promise((res) => (pending = { want: word.length, resolve: res }));
      },
    };
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      buf += d;
      const end = buf.indexOf('\r\n\r\n');
      if (pending === undefined || end === -1 || buf.length < end + 4 + pending.want) return;
      const p = pending;
      pending = undefined;
      p.resolve(buf);
    });
    socket.on('close', () => (idle.closed = true));
    socket.on('error', (e) => reject(e));
    const timer = setTimeout(() => reject(new Error('no complete response within 20 s')), 20_000);
    socket.once('connect', () => {
      void idle.ask('abc').then((raw) => {
        clearTimeout(timer);
        if (!raw.startsWith('HTTP/1.1 200 ') || !raw.endsWith('\r\n\r\nabc')) reject(new Error(`unexpected answer: ${JSON.stringify(raw)}`));
        else resolve(idle);
      });
    });
  });
}

/** Throws a message that says what to do when a process may not hold the connections. */
function requireOpenFiles(pid: number | 'self', who: string): void {
  const limit = openFilesLimit(pid);
  const need = CONNECTIONS + FD_MARGIN;
  if (limit < need) throw new Error(`${who} may open ${limit} files; this test needs ${need} (raise it: ulimit -n ${need * 2}, or LimitNOFILE in CI)`);
}

describe.each<Runtime>(['node', 'bun'])('server under %s', (rt) => {
  let server: RunningServer;
  beforeAll(async () => {
    // Idle connections must outlive the test: the default keep-alive timeout would close them.
    server = await startServer(['--keep-alive-timeout', '600000'], rt);
  });
  afterAll(() => server.stop());

  test(`${CONNECTIONS.toLocaleString('en-US')} idle keep-alive connections keep the server under ${LIMIT_MB} MB resident`, async () => {
    const pid = server.process.pid!;
    requireOpenFiles('self', 'the test process');
    requireOpenFiles(pid, `the server (${rt})`);
    const before = memory(pid);
    const idle: Idle[] = [];
    try {
      let next = 0;
      const opener = async () => {
        while (next < CONNECTIONS) {
          next++;
          idle.push(await openIdle(server.port));
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, opener));
      expect(idle).toHaveLength(CONNECTIONS);
      await new Promise((r) => setTimeout(r, 2000)); // all idle: let the server settle
      const settled = memory(pid);
      console.log(
        `${rt}: ${CONNECTIONS} idle keep-alive connections: server RSS ${mb(settled.rss)} MB (before ${mb(before.rss)} MB), peak ${mb(settled.peak)} MB`,
      );
      expect(idle.filter((c) => c.closed)).toHaveLength(0);
      // They are live keep-alive connections: every 100th answers a second request.
      const sample = idle.filter((_, i) => i % 100 === 0);
      const answers = await Promise.all(sample.map((c, i) => c.ask(`n${i}`)));
      answers.forEach((raw, i) => expect(raw.endsWith(`\r\n\r\nn${i}`)).toBe(true));
      expect(mb(settled.peak)).toBeLessThan(LIMIT_MB);
      expect(mb(memory(pid).peak)).toBeLessThan(LIMIT_MB);
    } finally {
      for (const c of idle) c.socket.destroy();
    }
  }, 180_000);
});
