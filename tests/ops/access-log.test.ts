// The access log over real sockets: one line per exchange (engine errors
// included), bytes counted as they crossed the wire, a real consumer
// (Debian's goaccess) reading a combined log with no invalid line, stdout
// as destination, SIGHUP reopening the file, and silence by default when
// stdout is not a terminal.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type RunningServer, serverCommand, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { removeScratch, scratch, waitFor } from '../uploads/helpers';

function lines(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'latin1').split('\n').slice(0, -1);
}

/** Sends `raw` on a new connection and returns every byte received until the server closes, and the client's port. */
function exchange(port: number, raw: string): Promise<{ bytes: Buffer; clientPort: number }> {
  return new Promise((resolve, reject) => {
    let clientPort = 0;
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      clientPort = s.localPort ?? 0;
      s.write(raw, 'latin1');
    });
    const chunks: Buffer[] = [];
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => resolve({ bytes: Buffer.concat(chunks), clientPort }));
  });
}

describe('access log', () => {
  let dir: string;
  let server: RunningServer | undefined;
  beforeAll(() => {
    dir = scratch('access-log-');
    writeFileSync(path.join(dir, 'page.html'), '<p>hello</p>\n'.repeat(200));
  });
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  afterAll(() => removeScratch(dir));

  test('combined: one line per exchange of a mixed run, engine errors included, which goaccess reads with zero invalid lines', async () => {
    const log = path.join(dir, 'combined.log');
    server = await startServer(['--directory', dir, '--access-log', log, '--log-format', 'combined', '--headers-timeout', '400']);
    const port = server.port;
    const c = await RawClient.connect(port);
    const requests = [
      'GET /echo/abc HTTP/1.1\r\nHost: x\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0\r\n\r\n',
      'GET /user-agent HTTP/1.1\r\nHost: x\r\nUser-Agent: evil"agent\\ \x85\xff\tend\r\nReferer: http://a.example/"x\r\n\r\n',
      'GET /files/page.html HTTP/1.1\r\nHost: x\r\nAccept-Encoding: gzip\r\n\r\n',
      'HEAD /files/page.html HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /files/page.html HTTP/1.1\r\nHost: x\r\nRange: bytes=0-9\r\n\r\n',
      'GET /nothing/"here" HTTP/1.1\r\nHost: x\r\n\r\n',
      'PUT /files/up.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
      'POST /echo/x HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\nContent-Length: 3\r\n\r\nabc',
    ];
    c.send(requests.join('')); // pipelined
    const statuses: number[] = [];
    for (let i = 0; i < requests.length; i++) statuses.push((await c.readResponse({ head: i === 3 })).status);
    expect(statuses).toEqual([200, 200, 200, 200, 206, 404, 201, 405]);
    c.close();
    // Engine errors: a request-line that is not one (400), a head that never completes (408).
    const bad = await exchange(port, 'NOT A REQUEST\r\n\r\n');
    const slow = await exchange(port, 'GET /slow HTTP/1.1\r\nHost: x\r\n');
    expect(bad.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 400 /);
    expect(slow.bytes.toString('latin1')).toMatch(/^HTTP\/1\.1 408 /);
    const closing = await exchange(port, 'GET /echo/last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');

    await waitFor(() => lines(log).length >= 11, 'eleven log lines', 5000);
    const got = lines(log);
    expect(got).toHaveLength(11);
    const combined = /^127\.0\.0\.1 - - \[\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000\] "([^"\\]|\\.)*" \d{3} \d+ "([^"\\]|\\.)*" "([^"\\]|\\.)*"$/;
    for (const line of got) expect(line).toMatch(combined);
    expect(got[1]).toContain('"GET /user-agent HTTP/1.1" 200 ');
    expect(got[1]).toMatch(/ "http:\/\/a\.example\/\\"x" "evil\\"agent\\\\ \\x85\\xff\\x09end"$/);
    expect(got[5]).toContain('"GET /nothing/\\"here\\" HTTP/1.1" 404 ');
    expect(got[7]).toContain('"POST /echo/x HTTP/1.0" 405 ');
    // Engine errors, with what is known: nothing of the request.
    expect(got.filter((l) => / "-" 400 /.test(l))).toHaveLength(1);
    expect(got.filter((l) => / "-" 408 /.test(l))).toHaveLength(1);
    // Bytes sent: the whole response as it crossed the wire.
    expect(got[10]).toContain(`"GET /echo/last HTTP/1.1" 200 ${closing.bytes.length} `);
    expect(got.find((l) => / 400 /.test(l))).toContain(` 400 ${bad.bytes.length} `);

    const report = JSON.parse(execFileSync('goaccess', [log, '--log-format=COMBINED', '--no-global-config', '-o', 'json'], { encoding: 'utf8' }));
    expect(report.general.failed_requests).toBe(0);
    expect(report.general.total_requests).toBe(11);
  });

  test('csv to stdout (no FILE): the header row, then a line with every column', async () => {
    server = await startServer(['--access-log', '--log-format', 'csv']);
    const { bytes, clientPort } = await exchange(server.port, 'GET /echo/a,b HTTP/1.1\r\nHost: x\r\nUser-Agent: a "quoted", agent\r\nConnection: close\r\n\r\n');
    const s = server;
    await waitFor(() => s.output().includes('/echo/a,b'), 'the log line', 5000);
    const out = s.output().split('\n');
    const header = out.indexOf(
      'time,server_address,server_port,client_address,client_port,method,request_target,http_version,status,bytes_sent,duration_ms,user_agent',
    );
    expect(header).toBeGreaterThanOrEqual(0);
    const line = out.find((l) => l.includes('/echo/a,b'))!;
    const re = new RegExp(
      `^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z,127\\.0\\.0\\.1,${s.port},127\\.0\\.0\\.1,${clientPort},GET,"/echo/a,b",HTTP/1\\.1,200,${bytes.length},\\d+\\.\\d{3},"a ""quoted"", agent"$`,
    );
    expect(line).toMatch(re);
    expect(out.indexOf(line)).toBeGreaterThan(header);
  });

  test('json: SIGHUP reopens the file after logrotate moved it', async () => {
    const log = path.join(dir, 'json.log');
    server = await startServer(['--access-log', log, '--log-format', 'json']);
    const s = server;
    await exchange(s.port, 'GET /echo/one HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => lines(log).length === 1, 'the first line', 5000);
    renameSync(log, `${log}.1`);
    s.process.kill('SIGHUP');
    await waitFor(() => existsSync(log), 'the log to be reopened', 5000);
    await exchange(s.port, 'GET /echo/two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await waitFor(() => lines(log).length === 1, 'a line in the new file', 5000);
    expect(JSON.parse(lines(`${log}.1`)[0]!)).toMatchObject({ method: 'GET', target: '/echo/one', status: 200 });
    const two = JSON.parse(lines(log)[0]!);
    expect(two).toMatchObject({ serverAddress: '127.0.0.1', serverPort: s.port, clientAddress: '127.0.0.1', method: 'GET', target: '/echo/two', version: 'HTTP/1.1', status: 200, userAgent: null });
    expect(Object.keys(two)).toEqual(['time', 'serverAddress', 'serverPort', 'clientAddress', 'clientPort', 'method', 'target', 'version', 'status', 'bytesSent', 'durationMs', 'userAgent', 'referer']);
    expect(s.process.exitCode).toBeNull(); // SIGHUP did not end it
  });

  test('by default, with stdout not a terminal, nothing is printed per request', async () => {
    server = await startServer([]);
    const s = server;
    for (let i = 0; i < 3; i++) await exchange(s.port, `GET /echo/${i} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    await exchange(s.port, 'BAD\r\n\r\n');
    await new Promise((r) => setTimeout(r, 400));
    expect(withoutBanner(s.output())).toEqual([expect.stringMatching(/^Listening on /)]);
  });

  /** The lines printed, without the banner's indented lines after `Listening on` (startup, not per request). */
  function withoutBanner(out: string): string[] {
    return out.trim().split('\n').filter((l) => !l.startsWith('  '));
  }

  /** Runs the server with stdout on a terminal (util-linux `script` gives it a pty); returns what the terminal showed. */
  async function onTerminal(args: string[], requests: string[]): Promise<string> {
    const [cmd, argv] = serverCommand('node', ['--host', '127.0.0.1', '--port', '0', ...args]);
    const line = ['exec', cmd, ...argv].map((a) => `'${a}'`).join(' ');
    // A colour terminal, whatever runs the tests (Node reports 2 colours under CI=… or TERM=dumb).
    const env: NodeJS.ProcessEnv = { ...process.env, TERM: 'xterm-256color' };
    delete env.CI;
    delete env.NO_COLOR;
    delete env.NODE_DISABLE_COLORS;
    delete env.FORCE_COLOR;
    const child = spawn('script', ['-qfec', line, '/dev/null'], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString('latin1')));
    const exited = new Promise((r) => child.once('exit', r));
    try {
      await waitFor(() => /Listening on http:\/\/localhost:\d+/.test(out), 'the server on a terminal', 10_000);
      const port = Number(/localhost:(\d+)/.exec(out)![1]);
      for (const r of requests) await exchange(port, r);
      await new Promise((r) => setTimeout(r, 300));
      return out;
    } finally {
      child.kill('SIGTERM'); // the pty closes: the server gets SIGHUP
      await exited;
    }
  }

  test('at a terminal, a short line per request, its status coloured by class; --quiet silences it', async () => {
    const reqs = ['GET /echo/hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'BAD\r\n\r\n'];
    const shown = await onTerminal([], reqs);
    expect(shown).toMatch(/\d\d:\d\d:\d\d GET \/echo\/hi \x1b\[32m200\x1b\[0m \d+\.\d ms\r\n/);
    expect(shown).toMatch(/\d\d:\d\d:\d\d GET \/nope \x1b\[33m404\x1b\[0m \d+\.\d ms\r\n/);
    expect(shown).toMatch(/\d\d:\d\d:\d\d - - \x1b\[33m400\x1b\[0m /);
    const quiet = await onTerminal(['--quiet'], reqs);
    expect(withoutBanner(quiet)).toEqual([expect.stringMatching(/^Listening on /)]);
  });
});
