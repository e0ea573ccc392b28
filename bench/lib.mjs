/**
 * What `npm run bench` and `node bench/profile.mjs` share: the workloads,
 * starting and stopping servers, checking their answers, running wrk.
 */

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(BENCH);
const LUA = path.join(BENCH, 'wrk', 'bench.lua');
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/**
 * The workloads of issue 3. `depth` > 1 pipelines; `body` is the request
 * content in bytes; `expect` is checked on ours and node:http before the load.
 */
export const WORKLOADS = [
  { name: 'echo', title: 'GET /echo/abc, keep-alive', method: 'GET', path: '/echo/abc', depth: 1, body: 0, headers: [], expect: { status: 200, body: 'abc' } },
  { name: 'pipelined', title: 'GET /echo/abc, pipelined 16 deep', method: 'GET', path: '/echo/abc', depth: 16, body: 0, headers: [], expect: { status: 200, body: 'abc' } },
  { name: 'user-agent', title: 'GET /user-agent, keep-alive', method: 'GET', path: '/user-agent', depth: 1, body: 0, headers: [`User-Agent: ${UA}`], expect: { status: 200, body: UA } },
  { name: 'close', title: 'GET /echo/abc, Connection: close', method: 'GET', path: '/echo/abc', depth: 1, body: 0, headers: ['Connection: close'], close: true, expect: { status: 200, body: 'abc' } },
  { name: 'upload', title: 'POST /files/x, 64 KiB body', method: 'POST', path: '/files/x', depth: 1, body: 64 * 1024, headers: [], expect: { status: 201, body: '', file: 64 * 1024 } },
];

/** Median of a list of numbers. */
export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n === 0 ? NaN : n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

// ---- tools -----------------------------------------------------------------------

export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

export function ensureTools() {
  if (!have('wrk')) {
    console.log('wrk is missing: installing the Debian package (apt-get update && apt-get install -y wrk)');
    const root = process.getuid?.() === 0;
    const run = (args) => spawnSync(root ? args[0] : 'sudo', root ? args.slice(1) : args, { stdio: 'inherit' });
    run(['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'update']);
    const r = run(['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'install', '-y', 'wrk']);
    if (r.status !== 0 || !have('wrk')) throw new Error('could not install wrk; install it (apt-get install wrk) and retry');
  }
  if (!existsSync(path.join(ROOT, 'dist', 'app', 'main.js'))) throw new Error('dist/app/main.js is missing: run `npm run build` (npm run bench does)');
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const pin = have('taskset') && cpus >= 2;
  if (!pin) console.log(`warning: ${have('taskset') ? `only ${cpus} CPU` : 'taskset (util-linux) missing'}: server and wrk are not pinned`);
  const wrkVersion = spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? 'wrk';
  return { pin, cpus, wrkVersion };
}

// ---- servers ---------------------------------------------------------------------

/** Starts `node args...` (pinned to CPU 0) and resolves with its port once it says "Listening on". */
export function startNode(args, pin, nodeArgs = []) {
  const cmd = pin ? 'taskset' : process.execPath;
  const argv = pin ? ['-c', '0', process.execPath, ...nodeArgs, ...args] : [...nodeArgs, ...args];
  const child = spawn(cmd, argv, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`server did not start: ${args.join(' ')}\n${out}`)), 10_000);
    const fail = (err) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onData = (d) => {
      out += d;
      const m = /Listening on http:\/\/localhost:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        child.stdout.resume();
        child.stderr.resume();
        resolve({ child, port: Number(m[1]) });
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.once('exit', (code) => fail(new Error(`server exited (${code}): ${args.join(' ')}\n${out}`)));
  });
}

/** Stops a server we started, by its PID: SIGTERM, then SIGKILL after 2 s. */
export function stop(server) {
  const child = server.child;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), 2000);
    child.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** The request wrk sends for `w`, as bytes (one of them when pipelined). */
export function requestBytes(w, port) {
  let head = `${w.method} ${w.path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`;
  for (const h of w.headers) head += `${h}\r\n`;
  if (w.body > 0) head += `Content-Type: application/octet-stream\r\nContent-Length: ${w.body}\r\n`;
  return Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), Buffer.alloc(w.body, 'x')]);
}

/** Sends one request over a fresh connection; resolves with the raw response, its status and body. */
export function exchange(port, request) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => done(new Error('no complete response within 5 s')), 5000);
    const done = (err, value) => {
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) return;
      const head = buf.toString('latin1', 0, end);
      const m = /\r\ncontent-length: *(\d+)/i.exec(head);
      const length = m ? Number(m[1]) : 0;
      if (buf.length < end + 4 + length) return;
      const raw = buf.subarray(0, end + 4 + length);
      done(null, { raw, status: Number(head.split(' ')[1]), body: raw.toString('utf8', end + 4) });
    });
    socket.on('error', (e) => done(e));
    socket.write(request);
  });
}

export async function check(name, server, w, dir) {
  const res = await exchange(server.port, requestBytes(w, server.port));
  if (res.status !== w.expect.status || res.body !== w.expect.body) {
    throw new Error(`${name} answered ${res.status} ${JSON.stringify(res.body.slice(0, 80))} to ${w.method} ${w.path}; expected ${w.expect.status} ${JSON.stringify(w.expect.body)}`);
  }
  if (w.expect.file !== undefined) {
    const size = statSync(path.join(dir, 'x')).size;
    if (size !== w.expect.file) throw new Error(`${name} stored ${size} bytes, expected ${w.expect.file}`);
  }
  return res;
}

// ---- wrk -------------------------------------------------------------------------

/** CPU time (user + system, all threads) a process has used, in microseconds; NaN if unknown. */
export function cpuMicros(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * Runs wrk for `seconds` against `server`; resolves with its figures:
 * requests/s, p50 and p99 latency (ms), error counts, and the server's CPU
 * time per request (µs), a figure that other load on the machine disturbs
 * far less than requests/s.
 */
export function wrk(w, server, seconds, pin, connections = 64) {
  const args = ['-t1', `-c${connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', LUA, `http://127.0.0.1:${server.port}${w.path}`,
    '--', w.method, String(w.depth), String(w.body), ...w.headers];
  const cmd = pin ? 'taskset' : 'wrk';
  const argv = pin ? ['-c', '1', 'wrk', ...args] : args;
  return new Promise((resolve, reject) => {
    const cpuBefore = cpuMicros(server.child.pid);
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.once('exit', (code) => {
      const cpu = cpuMicros(server.child.pid) - cpuBefore;
      const m = /BENCH_JSON (\{.*\})/.exec(out);
      if (code !== 0 || !m) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const r = JSON.parse(m[1]);
      const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
      resolve({
        rps: r.requests / (r.duration_us / 1e6),
        p99ms: r.p99_us / 1000,
        p50ms: r.p50_us / 1000,
        cpuUsPerRequest: cpu / Math.max(1, r.requests),
        requests: r.requests,
        errors,
        errorDetail: r.errors,
      });
    });
  });
}
