/**
 * Profiles our server under one workload: starts it with `node --cpu-prof`
 * (pinned to CPU 0), loads it with wrk (CPU 1) for a while, stops it, and
 * prints where the CPU time went, by function (self time) and by file.
 *
 * Usage: npm run build && node bench/profile.mjs [workload] [seconds] [--server ours|node:http|raw]
 *   workload: echo (default), pipelined, user-agent, close, upload, or a static
 *     one (file-1k, file-64k, file-10m, gzip-64k, etag-304: ours with --root)
 *   --server: profile a reference instead of ours, to compare where time goes
 *     (dynamic workloads only)
 * Extra options for our server come from PROFILE_ARGS, e.g.
 *   PROFILE_ARGS='--access-log /tmp/a.log' node bench/profile.mjs echo
 * The profile is kept in bench/tmp/ (git-ignored) for Chrome DevTools.
 */

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCH, ROOT, STATIC_WORKLOADS, WORKLOADS, check, checkStatic, ensureTools, startNode, stop, writeStaticFiles, wrk } from './lib.mjs';

const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--server');
const name = positional[0] ?? 'echo';
const seconds = Number(positional[1] ?? 5);
const serverAt = process.argv.indexOf('--server');
const which = serverAt === -1 ? 'ours' : process.argv[serverAt + 1];
if (!['ours', 'node:http', 'raw'].includes(which)) {
  console.error('--server is one of ours, node:http, raw');
  process.exit(2);
}
const w = [...WORKLOADS, ...STATIC_WORKLOADS].find((x) => x.name === name);
if (w === undefined) {
  console.error(`unknown workload ${name}; one of ${[...WORKLOADS, ...STATIC_WORKLOADS].map((x) => x.name).join(', ')}`);
  process.exit(2);
}
if (w.static && which !== 'ours') {
  console.error('--server applies to the dynamic workloads only');
  process.exit(2);
}

const env = ensureTools();
const outDir = path.join(BENCH, 'tmp', `profile-${name}-${Date.now()}`);
mkdirSync(outDir, { recursive: true });
const files = mkdtempSync(path.join(os.tmpdir(), 'http-profile-'));
const profiling = ['--cpu-prof', `--cpu-prof-dir=${outDir}`];
const where = w.static ? ['--root', files] : ['--directory', files];
const bytes = w.static ? writeStaticFiles(files) : {};
const extra = (process.env.PROFILE_ARGS ?? '').split(/\s+/).filter(Boolean);
let server = await startNode(['dist/app/main.js', '--host', '127.0.0.1', '--port', '0', ...where, ...extra], env.pin, which === 'ours' ? profiling : []);
let result;
try {
  if (w.static) {
    const { headers } = await checkStatic('ours', server, w, bytes[w.file]);
    result = await wrk(w, server, seconds, env.pin, 64, headers);
  }
  const sample = w.static ? null : await check('ours', server, w, files);
  if (which !== 'ours') {
    await stop(server);
    const args = which === 'raw'
      ? ['bench/servers/raw-net.mjs', '0', sample.raw.toString('base64'), ...(w.close ? ['--close'] : [])]
      : ['bench/servers/node-http.mjs', '0', files];
    server = await startNode(args, env.pin, profiling);
  }
  if (!w.static) result = await wrk(w, server, seconds, env.pin);
} finally {
  await stop(server);
  rmSync(files, { recursive: true, force: true });
}
console.log(`${which}, ${w.title}: ${Math.round(result.rps).toLocaleString('en-US')} req/s, p99 ${result.p99ms} ms, ${result.cpuUsPerRequest.toFixed(2)} µs CPU per request, errors ${result.errors}`);

const file = readdirSync(outDir).find((f) => f.endsWith('.cpuprofile'));
if (file === undefined) throw new Error('no .cpuprofile written');
const profile = JSON.parse(readFileSync(path.join(outDir, file), 'utf8'));

// Self time per node = samples that landed on it × the mean sample interval.
const counts = new Map();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const total = profile.samples.length;
const byFunction = new Map();
const byFile = new Map();
for (const node of profile.nodes) {
  const n = counts.get(node.id) ?? 0;
  if (n === 0) continue;
  const cf = node.callFrame;
  const where = cf.url ? cf.url.replace(`file://${ROOT}/`, '').replace(/^node:/, 'node:') : '(native)';
  const key = `${cf.functionName || '(anonymous)'}  ${where}:${cf.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + n);
  const fileKey = cf.url ? where : cf.functionName || '(native)';
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + n);
}
// Microseconds of one request: a sample stands for the mean interval between samples.
const usPerSample = (profile.endTime - profile.startTime) / total;
const usPerRequest = (n) => (n * usPerSample) / Math.max(1, result.requests);
const top = (m, k) =>
  [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, k)
    .map(([key, n]) => `${((100 * n) / total).toFixed(1).padStart(5)}% ${usPerRequest(n).toFixed(3).padStart(7)} µs/req  ${key}`)
    .join('\n');
// Total time: self time of a node and everything it called (counted once per stack).
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map();
for (const [id, n] of counts) {
  const seen = new Set();
  for (let at = id; at !== undefined; at = parent.get(at)) {
    const cf = byId.get(at).callFrame;
    const key = `${cf.functionName || '(anonymous)'}  ${cf.url ? cf.url.replace(`file://${ROOT}/`, '') : '(native)'}:${cf.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + n);
  }
}
console.log(`\nself time by function (${total} samples):\n${top(byFunction, 30)}`);
console.log(`\ntotal time by function (self and callees):\n${top(inclusive, 40)}`);
console.log(`\nself time by file:\n${top(byFile, 20)}`);
console.log(`\nprofile: ${path.relative(ROOT, path.join(outDir, file))}`);
