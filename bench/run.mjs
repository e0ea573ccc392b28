/**
 * `npm run bench`: this server against two references on loopback, under wrk.
 *
 * Servers (each started fresh for every workload, pinned to CPU 0):
 *   ours       node dist/app/main.js --host 127.0.0.1 --port 0 --directory <tmp>
 *   node:http  bench/servers/node-http.mjs, the same routes on Node's own server
 *   raw        bench/servers/raw-net.mjs, a node:net server that parses nothing and
 *              replays the exact response bytes ours sent (the ceiling for one process)
 * Load: wrk, one thread pinned to CPU 1, 64 connections. After a warm-up of
 * each server, every round runs wrk once per server (the order rotates per
 * round, so drift from other load on the machine hits all three alike); the
 * figures are medians over the rounds.
 *
 * Options (or environment): --runs N (BENCH_RUNS, 5), --duration S
 * (BENCH_DURATION, 4), --warmup S (BENCH_WARMUP, 2), --connections N (64),
 * --only echo,pipelined,... (BENCH_ONLY), --strict (exit 1 if the bar is missed),
 * --no-write (do not touch bench/results.json and bench/RESULTS.md),
 * --ours path/to/main.js (BENCH_OURS; another build of ours, for before/after).
 */

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH, WORKLOADS as ALL_WORKLOADS, check, ensureTools, median, startNode, stop, wrk } from './lib.mjs';

// ---- options -------------------------------------------------------------------

function option(name, env, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  if (i !== -1 && process.argv[i + 1] !== undefined) return process.argv[i + 1];
  return process.env[env] ?? fallback;
}
const RUNS = Number(option('runs', 'BENCH_RUNS', '5'));
const DURATION = Number(option('duration', 'BENCH_DURATION', '4'));
const WARMUP = Number(option('warmup', 'BENCH_WARMUP', '2'));
const CONNECTIONS = Number(option('connections', 'BENCH_CONNECTIONS', '64'));
const ONLY = option('only', 'BENCH_ONLY', '');
const OURS = option('ours', 'BENCH_OURS', 'dist/app/main.js');
const STRICT = process.argv.includes('--strict');
const WRITE = !process.argv.includes('--no-write');
const WORKLOADS = ALL_WORKLOADS.filter((w) => ONLY === '' || ONLY.split(',').includes(w.name));

const SERVERS = ['ours', 'node:http', 'raw'];

/** The bar of issue 3: ours / reference on a workload, at least `min`. */
const BAR = [
  { workload: 'echo', reference: 'node:http', min: 1.5 },
  { workload: 'echo', reference: 'raw', min: 0.75 },
  { workload: 'pipelined', reference: 'node:http', min: 2.5 },
];

// ---- the run ---------------------------------------------------------------------

async function runWorkload(w, env, tmp) {
  const dirs = { ours: path.join(tmp, 'ours'), 'node:http': path.join(tmp, 'node-http') };
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

    process.stdout.write(`\n${w.title}: warm-up ${WARMUP} s each`);
    for (const s of SERVERS) await wrk(w, servers[s], WARMUP, env.pin, CONNECTIONS);
    const runs = Object.fromEntries(SERVERS.map((s) => [s, []]));
    for (let r = 0; r < RUNS; r++) {
      process.stdout.write(`; round ${r + 1}/${RUNS}`);
      for (let k = 0; k < SERVERS.length; k++) {
        const s = SERVERS[(k + r) % SERVERS.length];
        runs[s].push(await wrk(w, servers[s], DURATION, env.pin, CONNECTIONS));
      }
    }
    process.stdout.write('\n');
    const result = { title: w.title, servers: {} };
    for (const s of SERVERS) {
      const rs = runs[s];
      result.servers[s] = {
        rps: Math.round(median(rs.map((x) => x.rps))),
        p99ms: Number(median(rs.map((x) => x.p99ms)).toFixed(2)),
        cpuUsPerRequest: Number(median(rs.map((x) => x.cpuUsPerRequest)).toFixed(2)),
        errors: rs.reduce((a, x) => a + x.errors, 0),
        runs: rs.map((x) => ({ rps: Math.round(x.rps), p99ms: x.p99ms, cpuUsPerRequest: Number(x.cpuUsPerRequest.toFixed(2)), errors: x.errorDetail })),
      };
      if (result.servers[s].errors > 0) console.log(`warning: ${s} had ${result.servers[s].errors} socket/status errors on ${w.name}`);
    }
    const ours = result.servers.ours.rps;
    result.ratio = {
      'node:http': Number((ours / result.servers['node:http'].rps).toFixed(2)),
      raw: Number((ours / result.servers.raw.rps).toFixed(2)),
    };
    return result;
  } finally {
    await Promise.all(Object.values(servers).map(stop));
  }
}

function table(results) {
  const f = (n) => n.toLocaleString('en-US');
  const lines = [
    '| workload | ours req/s | ours p99 ms | node:http req/s | node:http p99 ms | raw req/s | raw p99 ms | ours / node:http | ours / raw |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const [name, r] of Object.entries(results)) {
    const s = r.servers;
    lines.push(`| ${name}: ${r.title} | ${f(s.ours.rps)} | ${s.ours.p99ms} | ${f(s['node:http'].rps)} | ${s['node:http'].p99ms} | ${f(s.raw.rps)} | ${s.raw.p99ms} | ${r.ratio['node:http']}× | ${r.ratio.raw}× |`);
  }
  lines.push('', 'Server CPU time per request, µs (user + system; less disturbed by other load than req/s):', '');
  lines.push('| workload | ours | node:http | raw |', '|---|---:|---:|---:|');
  for (const [name, r] of Object.entries(results)) {
    const s = r.servers;
    lines.push(`| ${name} | ${s.ours.cpuUsPerRequest} | ${s['node:http'].cpuUsPerRequest} | ${s.raw.cpuUsPerRequest} |`);
  }
  return lines.join('\n');
}

function barLines(results) {
  return BAR.filter((b) => results[b.workload]).map((b) => {
    const got = results[b.workload].ratio[b.reference];
    b.got = got;
    b.pass = got >= b.min;
    return `- ${b.workload} vs ${b.reference}: ${got}× (bar ≥ ${b.min}×) ${b.pass ? 'PASS' : 'FAIL'}`;
  });
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

async function main() {
  const env = ensureTools();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'http-bench-'));
  const cleanup = () => rmSync(tmp, { recursive: true, force: true });
  process.on('SIGINT', () => {
    cleanup();
    process.exit(130);
  });
  const machine = {
    date: new Date().toISOString(),
    node: process.version,
    wrk: env.wrkVersion,
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cpus: env.cpus,
    pinned: env.pin ? 'server on CPU 0, wrk on CPU 1' : 'not pinned',
    load: os.loadavg().map((x) => x.toFixed(2)).join(' '),
    settings: { runs: RUNS, durationSeconds: DURATION, warmupSeconds: WARMUP, connections: CONNECTIONS, wrkThreads: 1 },
  };
  console.log(`npm run bench: ${RUNS} runs × ${DURATION} s per server and workload after ${WARMUP} s warm-up, ${CONNECTIONS} connections, ${machine.pinned}`);
  const results = {};
  try {
    for (const w of WORKLOADS) results[w.name] = await runWorkload(w, env, tmp);
  } finally {
    cleanup();
  }
  const bars = barLines(results);
  const md = [
    `${machine.date.slice(0, 16).replace('T', ' ')} UTC · Node ${machine.node} · ${machine.wrk.split(' [')[0]} · ${machine.cpus}× ${machine.cpu} · ${machine.pinned} · load before start ${machine.load}`,
    `${RUNS} runs × ${DURATION} s per server and workload (medians), ${WARMUP} s warm-up, ${CONNECTIONS} connections, 1 wrk thread.`,
    '',
    table(results),
    '',
    'The bar (single process, same run):',
    '',
    ...bars,
  ].join('\n');
  console.log(`\n${table(results)}\n\nThe bar:\n${bars.join('\n')}`);
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
