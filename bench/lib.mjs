/**
 * What `npm run bench` and `node bench/profile.mjs` share: the workloads,
 * starting and stopping servers, checking their answers, running wrk.
 */

import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

export const BENCH = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.dirname(BENCH);
const LUA = path.join(BENCH, 'wrk', 'bench.lua');
const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/**
 * The dynamic-route workloads of issue 3, against ours, node:http and raw.
 * `depth` > 1 pipelines; `body` is the request content in bytes; `expect`
 * is checked on ours and node:http before the load. `tmpfs`: the served
 * folder lives on a tmpfs (/dev/shm) so the disk does not set the pace.
 */
export const WORKLOADS = [
  { name: 'echo', title: 'GET /echo/abc, keep-alive', method: 'GET', path: '/echo/abc', depth: 1, body: 0, headers: [], expect: { status: 200, body: 'abc' } },
  { name: 'pipelined', title: 'GET /echo/abc, pipelined 16 deep', method: 'GET', path: '/echo/abc', depth: 16, body: 0, headers: [], expect: { status: 200, body: 'abc' } },
  { name: 'user-agent', title: 'GET /user-agent, keep-alive', method: 'GET', path: '/user-agent', depth: 1, body: 0, headers: [`User-Agent: ${UA}`], expect: { status: 200, body: UA } },
  { name: 'close', title: 'GET /echo/abc, Connection: close', method: 'GET', path: '/echo/abc', depth: 1, body: 0, headers: ['Connection: close'], close: true, expect: { status: 200, body: 'abc' } },
  { name: 'upload', title: 'POST /files/x, 64 KiB body, folder on tmpfs', method: 'POST', path: '/files/x', depth: 1, body: 64 * 1024, headers: [], tmpfs: true, expect: { status: 201, body: '', file: 64 * 1024 } },
];

/**
 * The static-file workloads of issue 7, served through `--root` from one
 * temporary folder (see {@link writeStaticFiles}) by ours (Node), ours under
 * Bun and nginx. `connections` overrides the default (64); `coding` is the
 * content coding the answer must carry; `revalidate` sends each server's
 * own ETag in `If-None-Match` and expects 304.
 */
export const STATIC_WORKLOADS = [
  { name: 'file-1k', title: 'GET a 1 KiB file', file: '1k.bin', headers: [] },
  { name: 'file-64k', title: 'GET a 64 KiB file', file: '64k.bin', headers: [] },
  { name: 'file-10m', title: 'GET a 10 MiB file, 8 connections', file: '10m.bin', headers: [], connections: 8, throughput: true },
  { name: 'gzip-64k', title: 'GET a 64 KiB text file, Accept-Encoding: gzip', file: '64k.txt', headers: ['Accept-Encoding: gzip'], coding: 'gzip' },
  { name: 'etag-304', title: 'GET a 64 KiB text file, If-None-Match: its ETag (304)', file: '64k.txt', headers: [], revalidate: true },
].map((w) => ({ ...w, static: true, method: 'GET', path: `/${w.file}`, depth: 1, body: 0 }));

/**
 * Writes the files of {@link STATIC_WORKLOADS} into `dir`: random bytes for
 * the `.bin` files (1 KiB, 64 KiB, 10 MiB) and 64 KiB of English-like text
 * (a fixed word list drawn by a seeded generator: compresses like prose,
 * about 3:1, and is the same on every run).
 * @returns file name → its bytes.
 */
export function writeStaticFiles(dir) {
  const files = {
    '1k.bin': randomBytes(1024),
    '64k.bin': randomBytes(64 * 1024),
    '10m.bin': randomBytes(10 * 1024 * 1024),
    '64k.txt': proseText(64 * 1024),
  };
  for (const [name, bytes] of Object.entries(files)) writeFileSync(path.join(dir, name), bytes, { mode: 0o644 });
  return files;
}

function proseText(size) {
  const words = ('the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were ' +
    'her she there been one all we their has would when if so no what up out more about into them some time could then two like other ' +
    'server request response header field connection file body client cache bytes length content coding compression network socket ' +
    'message section status method target version persistent pipeline buffer stream memory process kernel').split(' ');
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  let text = '';
  let line = 0;
  while (text.length < size) {
    const w = words[next() % words.length];
    text += w;
    line += w.length + 1;
    if (line > 72) {
      text += '.\n';
      line = 0;
    } else text += ' ';
  }
  return Buffer.from(text.slice(0, size), 'latin1');
}

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

/** The Bun that package.json pins (a devDependency). */
export const BUN = path.join(ROOT, 'node_modules', '.bin', 'bun');

/** Installs a Debian package when `cmd` is missing (apt-get, through sudo unless root); throws if it is still missing. */
function aptInstall(cmd, pkg) {
  if (have(cmd)) return;
  console.log(`${cmd} is missing: installing the Debian package (apt-get update && apt-get install -y ${pkg})`);
  const root = process.getuid?.() === 0;
  const run = (args) => spawnSync(root ? args[0] : 'sudo', root ? args.slice(1) : args, { stdio: 'inherit' });
  run(['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'update']);
  const r = run(['apt-get', '-o', 'DPkg::Lock::Timeout=300', 'install', '-y', pkg]);
  if (r.status !== 0 || !have(cmd)) throw new Error(`could not install ${pkg}; install it (apt-get install ${pkg}) and retry`);
}

/** nginx's path: on PATH, else Debian's /usr/sbin/nginx (not on a normal user's PATH). */
export const NGINX = have('nginx') ? 'nginx' : '/usr/sbin/nginx';

/**
 * Checks (and installs when missing) what the bench needs: wrk always,
 * nginx (Debian's nginx-light) when `opts.nginx`.
 * @returns { pin, cpus, wrkVersion, nginxVersion, bunVersion }.
 */
export function ensureTools(opts = {}) {
  aptInstall('wrk', 'wrk');
  let nginxVersion;
  if (opts.nginx) {
    if (!existsSync('/usr/sbin/nginx') && !have('nginx')) aptInstall('/usr/sbin/nginx', 'nginx-light');
    nginxVersion = spawnSync(NGINX, ['-v'], { encoding: 'utf8' }).stderr.trim().replace(/^nginx version: /, '');
  }
  let bunVersion;
  if (opts.bun) {
    if (!existsSync(BUN)) throw new Error(`${path.relative(ROOT, BUN)} is missing: run npm ci (bun is a devDependency)`);
    bunVersion = `Bun ${spawnSync(BUN, ['--version'], { encoding: 'utf8' }).stdout.trim()}`;
  }
  if (!existsSync(path.join(ROOT, 'dist', 'app', 'main.js'))) throw new Error('dist/app/main.js is missing: run `npm run build` (npm run bench does)');
  const cpus = os.availableParallelism?.() ?? os.cpus().length;
  const pin = have('taskset') && cpus >= 2;
  if (!pin) console.log(`warning: ${have('taskset') ? `only ${cpus} CPU` : 'taskset (util-linux) missing'}: server and wrk are not pinned`);
  const wrkVersion = spawnSync('wrk', ['-v'], { encoding: 'utf8' }).stdout.split('\n')[0]?.trim() ?? 'wrk';
  return { pin, cpus, wrkVersion, nginxVersion, bunVersion };
}

// ---- servers ---------------------------------------------------------------------

/** Starts `node args...` (pinned to CPU 0) and resolves with its port once it says "Listening on". */
export function startNode(args, pin, nodeArgs = []) {
  return startListening(process.execPath, [...nodeArgs, ...args], pin);
}

/** Starts ours under Bun (`bun run app/main.ts args...`, the way tests/helpers/server.ts does), pinned to CPU 0. */
export function startBun(args, pin) {
  return startListening(BUN, ['run', path.join(ROOT, 'app', 'main.ts'), ...args], pin);
}

/** Starts `cmd args...` (pinned to CPU 0 with taskset) and resolves with { child, port } once it prints "Listening on". */
function startListening(cmd, args, pin) {
  const child = pin ? spawn('taskset', ['-c', '0', cmd, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`server did not start: ${args.join(' ')}\n${out}`)), 15_000);
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

/** A TCP port that was free on 127.0.0.1 a moment ago (for servers that cannot listen on port 0 and say which). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts TCP connections on 127.0.0.1:`port`; rejects after `ms`. */
async function waitForPort(port, ms, alive) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (!alive()) throw new Error('exited before listening');
    if (Date.now() > deadline) throw new Error(`nothing listening on ${port} after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The nginx configuration of issue 7: one worker on CPU 0, `sendfile on`,
 * `access_log off`, `gzip on` for text types, pid, logs and temp folders
 * under `work`. `keepalive_requests` is raised from its default of 1,000
 * because ours never closes a busy keep-alive connection: wrk would
 * otherwise measure nginx's reconnects too (this only makes nginx faster).
 */
export function nginxConfig({ root, work, port, user }) {
  return `# Written by bench/lib.mjs for one run of npm run bench.
${user ? `user ${user};` : '# not root: the worker runs as the current user'}
daemon off;
master_process on;
worker_processes 1;
worker_cpu_affinity 01;
pid ${work}/nginx.pid;
error_log ${work}/error.log warn;
events { worker_connections 4096; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  sendfile on;
  tcp_nopush on;
  access_log off;
  keepalive_timeout 75s;
  keepalive_requests 1000000;
  gzip on;
  gzip_vary on;
  gzip_types text/plain text/css text/xml text/javascript application/javascript application/json application/xml image/svg+xml;
  client_body_temp_path ${work}/body;
  proxy_temp_path ${work}/proxy;
  fastcgi_temp_path ${work}/fastcgi;
  uwsgi_temp_path ${work}/uwsgi;
  scgi_temp_path ${work}/scgi;
  server {
    listen 127.0.0.1:${port};
    server_name localhost;
    root ${root};
  }
}
`;
}

/** The worker user: www-data when we are root and it exists (Debian's), else none (nginx then keeps our user). */
function nginxUser() {
  if (process.getuid?.() !== 0) return undefined;
  return spawnSync('id', ['-u', 'www-data'], { stdio: 'ignore' }).status === 0 ? 'www-data' : 'nobody';
}

/**
 * Starts nginx (`daemon off`, master and one worker, pinned to CPU 0)
 * serving `root` on a free loopback port, with its configuration, pid, logs
 * and temp folders in `work` (created, and made readable by the worker
 * user along with `root`). Resolves with { child, port, cpu() } where
 * cpu() is the CPU time of master and worker together, in µs.
 */
export async function startNginx(root, work, pin) {
  mkdirSync(work, { recursive: true });
  const user = nginxUser();
  // mkdtemp makes 0700 folders: the worker (www-data) must traverse and read them.
  for (const d of [work, root]) chmodSync(d, 0o755);
  for (const f of readdirSync(root)) chmodSync(path.join(root, f), 0o644);
  for (let d = path.dirname(root); d !== path.dirname(d); d = path.dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) throw new Error(`nginx's worker cannot reach ${root}: ${d} is not searchable by others (chmod o+x it)`);
  }
  let lastError;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const conf = path.join(work, 'nginx.conf');
    writeFileSync(conf, nginxConfig({ root, work, port, user }));
    const args = ['-p', `${work}/`, '-e', `${work}/error.log`, '-c', conf];
    const child = pin ? spawn('taskset', ['-c', '0', NGINX, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(NGINX, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    try {
      await waitForPort(port, 10_000, () => child.exitCode === null && child.signalCode === null);
      return { child, port, cpu: () => treeCpuMicros(child.pid) };
    } catch (e) {
      child.kill('SIGKILL');
      const log = existsSync(path.join(work, 'error.log')) ? readFileSync(path.join(work, 'error.log'), 'utf8') : '';
      lastError = new Error(`nginx did not start (${e.message}):\n${out}${log}`);
    }
  }
  throw lastError;
}

/** CPU time of `pid` and its child processes (nginx's worker), in µs. */
function treeCpuMicros(pid) {
  let total = cpuMicros(pid);
  for (const child of childPids(pid)) total += cpuMicros(child);
  return total;
}

function childPids(pid) {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'latin1').trim().split(/\s+/).filter(Boolean).map(Number));
  } catch {
    return [];
  }
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

/**
 * One GET over a fresh connection with node:http (it decodes chunked and
 * Content-Length framing alike); resolves with { status, headers, body }.
 */
export function get(port, target, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: target, headers, agent: false }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(parts) }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to GET ${target} within 10 s`)));
    req.on('error', reject);
  });
}

/**
 * Checks a server on a static workload before it is loaded: a plain GET
 * answers 200 with exactly the file's bytes; with `coding`, the answer
 * says `Content-Encoding: gzip` and decodes to the file's bytes; with
 * `revalidate`, the answer carries an ETag and a GET with `If-None-Match`
 * of that ETag answers 304 with no body.
 * @returns the header lines wrk must send to this server (its ETag for 304).
 * @throws Error saying what differs.
 */
export async function checkStatic(name, server, w, bytes) {
  const plain = await get(server.port, w.path);
  if (plain.status !== 200 || !plain.body.equals(bytes)) {
    throw new Error(`${name} answered ${plain.status} with ${plain.body.length} bytes to GET ${w.path}; expected 200 and the file's ${bytes.length} bytes`);
  }
  if (w.coding) {
    const res = await get(server.port, w.path, { 'Accept-Encoding': w.coding });
    if (res.status !== 200 || res.headers['content-encoding'] !== w.coding) {
      throw new Error(`${name} answered ${res.status}, Content-Encoding ${res.headers['content-encoding']} to GET ${w.path} with Accept-Encoding: ${w.coding}`);
    }
    const decoded = zlib.gunzipSync(res.body);
    if (!decoded.equals(bytes)) throw new Error(`${name}: the gzip body of ${w.path} does not decode to the file's bytes`);
    return { headers: w.headers, note: `${res.body.length} bytes coded` };
  }
  if (w.revalidate) {
    const etag = plain.headers.etag;
    if (!etag) throw new Error(`${name} sent no ETag for ${w.path}`);
    const res = await get(server.port, w.path, { 'If-None-Match': etag });
    if (res.status !== 304 || res.body.length !== 0) throw new Error(`${name} answered ${res.status} (${res.body.length} bytes) to If-None-Match: ${etag}; expected 304`);
    return { headers: [...w.headers, `If-None-Match: ${etag}`], note: `ETag ${etag}` };
  }
  return { headers: w.headers, note: '' };
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
 * requests/s, MB/s received (10^6 bytes, heads included), p50 and p99
 * latency (ms), error counts, and the server's CPU time per request (µs;
 * `server.cpu()` when given, e.g. nginx's master and worker together), a
 * figure that other load on the machine disturbs far less than requests/s.
 * `w.connections` overrides `connections`; `headers` replaces `w.headers`
 * (a server's own ETag for the 304 workload).
 */
export function wrk(w, server, seconds, pin, connections = 64, headers = w.headers) {
  const args = ['-t1', `-c${w.connections ?? connections}`, `-d${seconds}s`, '--timeout', '5s', '-s', LUA, `http://127.0.0.1:${server.port}${w.path}`,
    '--', w.method, String(w.depth), String(w.body), ...headers];
  const cmd = pin ? 'taskset' : 'wrk';
  const argv = pin ? ['-c', '1', 'wrk', ...args] : args;
  return new Promise((resolve, reject) => {
    const cpuOf = server.cpu ?? (() => cpuMicros(server.child.pid));
    const cpuBefore = cpuOf();
    const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.once('exit', (code) => {
      const cpu = cpuOf() - cpuBefore;
      const m = /BENCH_JSON (\{.*\})/.exec(out);
      if (code !== 0 || !m) return reject(new Error(`wrk failed (${code}):\n${out}`));
      const r = JSON.parse(m[1]);
      const errors = Object.values(r.errors).reduce((a, b) => a + b, 0);
      resolve({
        rps: r.requests / (r.duration_us / 1e6),
        mbps: r.bytes / r.duration_us, // bytes per µs = MB/s (10^6 bytes)
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
