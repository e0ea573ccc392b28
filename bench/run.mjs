/**
 * `npm run bench`: this server against references on loopback, under wrk.
 *
 * Dynamic routes (issue 3), each server started fresh for every workload:
 *   ours       node dist/app/main.js --host 127.0.0.1 --port 0 --directory <tmp>
 *   node:http  bench/servers/node-http.mjs, the same routes on Node's own server
 *   raw        bench/servers/raw-net.mjs, a node:net server that parses nothing and
 *              replays the exact response bytes ours sent (the ceiling for one process)
 * The upload workload writes into a folder on tmpfs (/dev/shm), so the disk
 * does not set the pace.
 *
 * Static files (issue 7), one temporary folder served through --root by:
 *   ours       node dist/app/main.js --root <dir> --host 127.0.0.1 --port 0
 *   ours (Bun) bun run app/main.ts --root <dir> ... (the same sources under Bun)
 *   nginx      Debian's nginx-light, one worker, sendfile, gzip for text types
 *              (bench/lib.mjs nginxConfig), installed when missing as wrk is
 * Before loading, every server must answer 200 with the file's exact bytes
 * (for gzip: Content-Encoding: gzip, decoding to those bytes; for 304: its
 * own ETag in If-None-Match answers 304).
 *
 * Load: wrk, one thread pinned to CPU 1, servers pinned to CPU 0. After a
 * warm-up of each server, every round runs wrk once per server (the order
 * rotates per round, so drift from other load on the machine hits all alike);
 * the figures are medians over the rounds.
 *
 * Options (or environment): --runs N (BENCH_RUNS, 5), --duration S
 * (BENCH_DURATION, 3), --warmup S (BENCH_WARMUP, 2), --connections N (64),
 * --only echo,file-1k,... or --only dynamic / static (BENCH_ONLY),
 * --strict (exit 1 if a bar is missed), --no-write (do not touch
 * bench/results.json and bench/RESULTS.md), --ours path/to/main.js
 * (BENCH_OURS; another build of ours, for before/after).
 */

import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  BENCH, STATIC_WORKLOADS, WORKLOADS as DYNAMIC_WORKLOADS, check, checkStatic, ensureTools, median, startBun, startNginx, startNode, stop,
  writeStaticFiles, wrk,
} from './lib.mjs';

// ---- options -------------------------------------------------------------------

function option(name, env, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i !== -1 && process.argv[i + 1] !== undefined) return process.argv[i + 1];
  return process.env[env] ?? fallback;
}
const RUNS = Number(option('runs', 'BENCH_RUNS', '5'));
const DURATION = Number(option('duration', 'BENCH_DURATION', '3'));
const WARMUP = Number(option('warmup', 'BENCH_WARMUP', '2'));
const CONNECTIONS = Number(option('connections', 'BENCH_CONNECTIONS', '64'));
const ONLY = option('only', 'BENCH_ONLY', '').split(',').filter(Boolean);
const OURS = option('ours', 'BENCH_OURS', 'dist/app/main.js');
const STRICT = process.argv.includes('--strict');
const WRITE = !process.argv.includes('--no-write');

const chosen = (w, group) => ONLY.length === 0 || ONLY.includes(w.name) || ONLY.includes(group);
const WORKLOADS = [...DYNAMIC_WORKLOADS.filter((w) => chosen(w, 'dynamic')), ...STATIC_WORKLOADS.filter((w) => chosen(w, 'static'))];
const unknown = ONLY.filter((n) => n !== 'dynamic' && n !== 'static' && ![...DYNAMIC_WORKLOADS, ...STATIC_WORKLOADS].some((w) => w.name === n));
if (unknown.length > 0) {
  console.error(`unknown workload ${unknown.join(', ')}; one of dynamic, static, ${[...DYNAMIC_WORKLOADS, ...STATIC_WORKLOADS].map((w) => w.name).join(', ')}`);
  process.exit(2);
}

/**
 * Issue 8: on these workloads ours runs a second time with an access log
 * (`--access-log FILE --log-format combined`), as "ours (log)"; it must keep
 * LOG_BAR of the figures without logging, in the same run.
 */
const LOGGED = OURS === 'dist/app/main.js' ? ['echo', 'file-1k'] : []; // another build (--ours) may lack --access-log
const LOG_BAR = 0.9;
const LOG = 'ours (log)';
const withLog = (w, names) => (LOGGED.includes(w.name) ? [...names, LOG] : names);
const logArgs = (tmp, w) => ['--access-log', path.join(tmp.dir, `${w.name}-access.log`), '--log-format', 'combined'];

/** Servers per kind of workload; the first is ours, the rest references. */
const DYNAMIC_SERVERS = ['ours', 'node:http', 'raw'];
const STATIC_SERVERS = ['ours', 'ours (Bun)', 'nginx'];

/**
 * The bars (single process, same run): ours / reference on a workload, at
 * least `min`. Issue 3: echo and pipelined. Issue 7: upload on tmpfs, and the
 * static files against nginx (10 MiB by MB/s, the rest by req/s).
 */
const BAR = [
  { workload: 'echo', reference: 'node:http', min: 1.5 },
  { workload: 'echo', reference: 'raw', min: 0.75 },
  { workload: 'pipelined', reference: 'node:http', min: 2.5 },
  { workload: 'upload', reference: 'node:http', min: 0.8 },
  { workload: 'file-1k', reference: 'nginx', min: 0.8 },
  { workload: 'file-64k', reference: 'nginx', min: 0.8 },
  { workload: 'file-10m', reference: 'nginx', min: 0.8 },
  { workload: 'gzip-64k', reference: 'nginx', min: 5 },
];

/** The figure a workload's ratios compare: MB/s for throughput workloads, else req/s. */
const metric = (w) => (w.throughput ? 'mbps' : 'rps');

// ---- the run ---------------------------------------------------------------------

/** Warm-up, then RUNS rounds in rotating order; medians per server. `headers[s]` are the header lines wrk sends to server s. */
async function measure(w, names, servers, headers, env) {
  process.stdout.write(`\n${w.title}: warm-up ${WARMUP} s each`);
  for (const s of names) await wrk(w, servers[s], WARMUP, env.pin, CONNECTIONS, headers[s]);
  const runs = Object.fromEntries(names.map((s) => [s, []]));
  for (let r = 0; r < RUNS; r++) {
    process.stdout.write(`; round ${r + 1}/${RUNS}`);
    for (let k = 0; k < names.length; k++) {
      const s = names[(k + r) % names.length];
      runs[s].push(await wrk(w, servers[s], DURATION, env.pin, CONNECTIONS, headers[s]));
    }
  }
  process.stdout.write('\n');
  const result = { title: w.title, kind: w.static ? 'static' : 'dynamic', metric: metric(w), servers: {}, ratio: {} };
  for (const s of names) {
    const rs = runs[s];
    result.servers[s] = {
      rps: Math.round(median(rs.map((x) => x.rps))),
      mbps: Number(median(rs.map((x) => x.mbps)).toFixed(1)),
      p99ms: Number(median(rs.map((x) => x.p99ms)).toFixed(2)),
      cpuUsPerRequest: Number(median(rs.map((x) => x.cpuUsPerRequest)).toFixed(2)),
      errors: rs.reduce((a, x) => a + x.errors, 0),
      runs: rs.map((x) => ({ rps: Math.round(x.rps), mbps: Number(x.mbps.toFixed(1)), p99ms: x.p99ms, cpuUsPerRequest: Number(x.cpuUsPerRequest.toFixed(2)), errors: x.errorDetail })),
    };
    if (result.servers[s].errors > 0) console.log(`warning: ${s} had ${result.servers[s].errors} socket/status errors on ${w.name}`);
  }
  const m = metric(w);
  const ratio = (a, b) => Number((result.servers[a][m] / result.servers[b][m]).toFixed(2));
  for (const s of names.slice(1)) if (s !== LOG) result.ratio[`ours / ${s}`] = ratio('ours', s);
  if (names.includes(LOG)) result.ratio[`${LOG} / ours`] = ratio(LOG, 'ours');
  if (names.includes('ours (Bun)')) {
    result.ratio['ours (Bun) / nginx'] = ratio('ours (Bun)', 'nginx');
    result.ratio['ours (Bun) / ours'] = ratio('ours (Bun)', 'ours');
  }
  return result;
}

async function runDynamic(w, env, tmp) {
  const base = w.tmpfs ? tmp.shm : tmp.dir;
  const dirs = { ours: path.join(base, `${w.name}-ours`), 'node:http': path.join(base, `${w.name}-node-http`) };
  for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
  const servers = {};
  try {
    servers.ours = await startNode([OURS, '--host', '127.0.0.1', '--port', '0', '--directory', dirs.ours], env.pin);
    const sample = await check('ours', servers.ours, w, dirs.ours);
    servers['node:http'] = await startNode(['bench/servers/node-http.mjs', '0', dirs['node:http']], env.pin);
    await check('node:http', servers['node:http'], w, dirs['node:http']);
    const rawArgs = ['bench/servers/raw-net.mjs', '0', sample.raw.toString('base64')];
    if (w.close) rawArgs.push('--close');
    servers.raw = await startNode(rawArgs, env.pin);
    const names = withLog(w, DYNAMIC_SERVERS);
    if (names.includes(LOG)) {
      servers[LOG] = await startNode([OURS, '--host', '127.0.0.1', '--port', '0', '--directory', dirs.ours, ...logArgs(tmp, w)], env.pin);
      await check(LOG, servers[LOG], w, dirs.ours);
    }
    const headers = Object.fromEntries(names.map((s) => [s, w.headers]));
    const result = await measure(w, names, servers, headers, env);
    if (w.tmpfs) result.folder = tmp.shmNote;
    return result;
  } finally {
    await Promise.all(Object.values(servers).map(stop));
    for (const d of Object.values(dirs)) rmSync(d, { recursive: true, force: true });
  }
}

async function runStatic(w, env, tmp) {
  const args = ['--root', tmp.site, '--host', '127.0.0.1', '--port', '0'];
  const servers = {};
  try {
    servers.ours = await startNode([OURS, ...args], env.pin);
    servers['ours (Bun)'] = await startBun(args, env.pin);
    servers.nginx = await startNginx(tmp.site, path.join(tmp.dir, 'nginx'), env.pin);
    const names = withLog(w, STATIC_SERVERS);
    if (names.includes(LOG)) servers[LOG] = await startNode([OURS, ...args, ...logArgs(tmp, w)], env.pin);
    const headers = {};
    const notes = {};
    for (const s of names) {
      const c = await checkStatic(s, servers[s], w, tmp.files[w.file]);
      headers[s] = c.headers;
      if (c.note) notes[s] = c.note;
    }
    if (Object.keys(notes).length > 0) console.log(`\n${w.name}: ${Object.entries(notes).map(([s, n]) => `${s} ${n}`).join('; ')}`);
    const result = await measure(w, names, servers, headers, env);
    result.checked = notes;
    return result;
  } finally {
    await Promise.all(Object.values(servers).map(stop));
  }
}

// ---- the report ------------------------------------------------------------------

const f = (n) => n.toLocaleString('en-US');

function tables(results) {
  const lines = [];
  const dynamic = Object.entries(results).filter(([, r]) => r.kind === 'dynamic');
  const statics = Object.entries(results).filter(([, r]) => r.kind === 'static');
  if (dynamic.length > 0) {
    lines.push('Dynamic routes (`--directory`; upload into a folder on tmpfs):', '');
    lines.push(
      '| workload | ours req/s | ours p99 ms | node:http req/s | node:http p99 ms | raw req/s | raw p99 ms | ours / node:http | ours / raw |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const [name, r] of dynamic) {
      const s = r.servers;
      lines.push(`| ${name}: ${r.title} | ${f(s.ours.rps)} | ${s.ours.p99ms} | ${f(s['node:http'].rps)} | ${s['node:http'].p99ms} | ${f(s.raw.rps)} | ${s.raw.p99ms} | ${r.ratio['ours / node:http']}× | ${r.ratio['ours / raw']}× |`);
    }
    lines.push('');
  }
  if (statics.length > 0) {
    lines.push('Static files (`--root`), ours on Node and on Bun against nginx; ratios by MB/s for the 10 MiB file, by req/s otherwise:', '');
    lines.push(
      '| workload | ours req/s | ours MB/s | ours p99 ms | ours (Bun) req/s | ours (Bun) MB/s | ours (Bun) p99 ms | nginx req/s | nginx MB/s | nginx p99 ms | ours / nginx | ours (Bun) / nginx | ours (Bun) / ours |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    );
    for (const [name, r] of statics) {
      const s = r.servers;
      const cells = STATIC_SERVERS.map((k) => `${f(s[k].rps)} | ${f(s[k].mbps)} | ${s[k].p99ms}`).join(' | ');
      lines.push(`| ${name}: ${r.title} | ${cells} | ${r.ratio['ours / nginx']}× | ${r.ratio['ours (Bun) / nginx']}× | ${r.ratio['ours (Bun) / ours']}× |`);
    }
    lines.push('');
  }
  const logged = Object.entries(results).filter(([, r]) => r.servers[LOG] !== undefined);
  if (logged.length > 0) {
    lines.push('Access log on (`--access-log FILE --log-format combined`) against off, same run:', '');
    lines.push('| workload | off req/s | on req/s | on / off | off CPU µs/req | on CPU µs/req |', '|---|---:|---:|---:|---:|---:|');
    for (const [name, r] of logged) {
      const s = r.servers;
      lines.push(`| ${name} | ${f(s.ours.rps)} | ${f(s[LOG].rps)} | ${r.ratio[`${LOG} / ours`]}× | ${s.ours.cpuUsPerRequest} | ${s[LOG].cpuUsPerRequest} |`);
    }
    lines.push('');
  }
  lines.push('Server CPU time per request, µs (user + system, all threads; nginx: master and worker; less disturbed by other load than req/s):', '');
  lines.push('| workload | ours | node:http | raw | ours (Bun) | nginx |', '|---|---:|---:|---:|---:|---:|');
  for (const [name, r] of Object.entries(results)) {
    const c = (k) => (r.servers[k] ? r.servers[k].cpuUsPerRequest : '');
    lines.push(`| ${name} | ${c('ours')} | ${c('node:http')} | ${c('raw')} | ${c('ours (Bun)')} | ${c('nginx')} |`);
  }
  return lines.join('\n');
}

function barLines(results) {
  const lines = [];
  for (const b of BAR) {
    const r = results[b.workload];
    if (!r) continue;
    b.got = r.ratio[`ours / ${b.reference}`];
    b.pass = b.got >= b.min;
    b.metric = r.metric === 'mbps' ? 'MB/s' : 'req/s';
    // Server CPU per request: the reference's over ours, steadier than req/s on a busy machine (not judged).
    b.byCpu = Number((r.servers[b.reference].cpuUsPerRequest / r.servers.ours.cpuUsPerRequest).toFixed(2));
    let line = `- ${b.workload} ours / ${b.reference} (${b.metric}): ${b.got}× (bar ≥ ${b.min}×) ${b.pass ? 'PASS' : 'FAIL'}; by server CPU per request ${b.byCpu}×`;
    const bun = r.ratio[`ours (Bun) / ${b.reference}`];
    if (bun !== undefined) line += `; under Bun ${bun}× (${bun >= b.min ? 'would pass' : 'would fail'}; not a bar)`;
    lines.push(line);
  }
  for (const name of LOGGED) {
    const r = results[name];
    if (!r || r.servers[LOG] === undefined) continue;
    const got = r.ratio[`${LOG} / ours`];
    const byCpu = Number((r.servers.ours.cpuUsPerRequest / r.servers[LOG].cpuUsPerRequest).toFixed(2));
    const pass = got >= LOG_BAR;
    BAR.push({ workload: name, reference: 'ours without log', subject: LOG, min: LOG_BAR, got, pass, byCpu, metric: 'req/s' });
    lines.push(`- ${name} ${LOG} / ours (req/s): ${got}× (bar ≥ ${LOG_BAR}×) ${pass ? 'PASS' : 'FAIL'}; by server CPU per request ${byCpu}×`);
  }
  return lines;
}

const BEGIN = '<!-- bench:begin (written by npm run bench) -->';
const END = '<!-- bench:end -->';

function writeResults(report, md) {
  writeFileSync(path.join(BENCH, 'results.json'), `${JSON.stringify(report, null, 2)}\n`);
  const file = path.join(BENCH, 'RESULTS.md');
  const block = `${BEGIN}\n${md}\n${END}`;
  let text = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a !== -1 && b > a) text = text.slice(0, a) + block + text.slice(b + END.length);
  else text = `# Benchmark results\n\n${block}\n${text}`;
  writeFileSync(file, text);
}

/** A folder for the upload workload on tmpfs: /dev/shm when it is one, else the temp folder (with a warning). */
function tmpfsFolder(fallback) {
  const TMPFS_MAGIC = 0x01021994;
  try {
    if (statfsSync('/dev/shm').type === TMPFS_MAGIC) return { dir: mkdtempSync('/dev/shm/http-bench-'), note: '/dev/shm (tmpfs)' };
  } catch {
    // no /dev/shm
  }
  console.log(`warning: /dev/shm is not a tmpfs here: the upload workload writes into ${fallback}`);
  return { dir: fallback, note: `${fallback} (not tmpfs)` };
}

async function main() {
  const needStatic = WORKLOADS.some((w) => w.static);
  const env = ensureTools({ nginx: needStatic, bun: needStatic });
  const dir = mkdtempSync(path.join(os.tmpdir(), 'http-bench-'));
  chmodSync(dir, 0o755); // nginx's worker user reads the site inside it
  const shm = WORKLOADS.some((w) => w.tmpfs) ? tmpfsFolder(dir) : { dir, note: '' };
  const tmp = { dir, shm: shm.dir, shmNote: shm.note, site: path.join(dir, 'site'), files: {} };
  if (needStatic) {
    mkdirSync(tmp.site);
    tmp.files = writeStaticFiles(tmp.site);
  }
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    if (shm.dir !== dir) rmSync(shm.dir, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const machine = {
    date: new Date().toISOString(),
    node: process.version,
    bun: env.bunVersion,
    wrk: env.wrkVersion,
    nginx: env.nginxVersion,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: env.cpus,
    pinned: env.pin ? 'servers on CPU 0, wrk on CPU 1' : 'not pinned',
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    settings: { runs: RUNS, durationSeconds: DURATION, warmupSeconds: WARMUP, connections: CONNECTIONS, wrkThreads: 1 },
  };
  console.log(`npm run bench: ${WORKLOADS.length} workloads; ${RUNS} runs × ${DURATION} s per server and workload after ${WARMUP} s warm-up, ${CONNECTIONS} connections (8 for the 10 MiB file), ${machine.pinned}`);
  const started = Date.now();
  const results = {};
  try {
    for (const w of WORKLOADS) results[w.name] = w.static ? await runStatic(w, env, tmp) : await runDynamic(w, env, tmp);
  } finally {
    cleanup();
  }
  const bars = barLines(results);
  const tools = [`Node ${machine.node}`, machine.bun, machine.wrk.split(' [')[0], machine.nginx].filter(Boolean).join(' · ');
  const md = [
    `${machine.date.slice(0, 16).replace('T', ' ')} UTC · ${tools} · ${machine.cpus}× ${machine.cpu} · ${machine.pinned} · load before start ${machine.load}`,
    `${RUNS} runs × ${DURATION} s per server and workload (medians), ${WARMUP} s warm-up, ${CONNECTIONS} connections (8 for the 10 MiB file), 1 wrk thread; ${Math.round((Date.now() - started) / 1000)} s in all.`,
    '',
    tables(results),
    '',
    'The bar (single process, same run):',
    '',
    ...bars,
  ].join('\n');
  console.log(`\n${tables(results)}\n\nThe bar (single process, same run):\n${bars.join('\n')}\n\n${Math.round((Date.now() - started) / 1000)} s in all; load now ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (WRITE) {
    writeResults({ machine, results, bar: BAR.filter((b) => b.got !== undefined) }, md);
    console.log('\nwrote bench/results.json and bench/RESULTS.md');
  }
  if (STRICT && BAR.some((b) => b.pass === false)) process.exitCode = 1;
}

main().catch((e) => {
  console.error(`bench failed: ${e.message}`);
  process.exit(1);
});
