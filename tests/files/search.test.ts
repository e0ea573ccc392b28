// Search by name below a folder (issue 10): `?q=TERM` finds files and
// folders whose names contain the term, case-insensitively, anywhere
// below; as HTML (links relative to the folder) or JSON (`&json`, or
// Accept). Hidden names are never found nor entered; a symlink is found
// only when it resolves inside the served directory and is never entered;
// results stop at 1,000 (truncated), walks at their time limit, and too
// many searches at once are refused.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SearchBusy, searchNames } from '../../app/files/search';
import { type RunningServer, startServer } from '../helpers/server';
import { send, tempDir, writeTree } from './support';

let root: string;
let dir: string;
let outside: string;
let server: RunningServer;
const policy = { isHidden: (n: string) => n.startsWith('.'), isInside: (p: string) => p === dir || p.startsWith(`${dir}${path.sep}`) };

beforeAll(async () => {
  root = tempDir('search');
  dir = path.join(root, 'served');
  outside = path.join(root, 'outside');
  writeTree(dir, {
    'docs/Report-2024.txt': 'r2024',
    'docs/old/report-2019.txt': 'r2019',
    'docs/a b/REPORT #3.md': 'r3',
    'docs/reports/readme.txt': 'in a folder named reports',
    'docs/unrelated.txt': 'u',
    'docs/.secret-report.txt': 'hidden',
    'docs/.hidden/report-inside-hidden.txt': 'hidden too',
    'docs/.upload-0123456789abcdef.partial': 'unfinished',
    'other/report-elsewhere.txt': 'not below docs',
  });
  writeTree(outside, { 'report-outside.txt': 'outside', 'deep/report-deeper.txt': 'outside' });
  fs.symlinkSync(outside, path.join(dir, 'docs', 'link-out-report'));
  fs.symlinkSync(path.join(outside, 'report-outside.txt'), path.join(dir, 'docs', 'report-link-out.txt'));
  fs.symlinkSync(path.join(dir, 'docs', 'unrelated.txt'), path.join(dir, 'docs', 'report-link-in.txt'));
  fs.symlinkSync(path.join(dir, 'docs'), path.join(dir, 'docs', 'loop')); // a cycle, were links entered
  fs.mkdirSync(path.join(dir, 'many', 'nested'), { recursive: true });
  for (let i = 0; i < 1100; i++) fs.writeFileSync(path.join(dir, 'many', i % 2 ? 'nested' : '', `match-${i}.txt`), '');
  server = await startServer(['--directory', dir]);
}, 60_000);
afterAll(async () => {
  await server.stop();
  fs.rmSync(root, { recursive: true, force: true });
});

interface Match {
  path: string;
  name: string;
  type: string;
  size: number | null;
  mtime: string;
}

const EXPECTED = ['a b/REPORT #3.md', 'old/report-2019.txt', 'Report-2024.txt', 'report-link-in.txt', 'reports'];

test('JSON: every visible name below the folder containing the term, case-insensitively, exactly shaped; nothing hidden, nothing outside', async () => {
  const res = await send(server.port, '/files/docs/?q=RePoRt&json');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('application/json');
  const doc = JSON.parse(res.body.toString()) as { path: string; query: string; entries: Match[]; truncated: boolean };
  expect(Object.keys(doc)).toEqual(['path', 'query', 'entries', 'truncated']);
  expect(doc.path).toBe('/files/docs/');
  expect(doc.query).toBe('RePoRt');
  expect(doc.truncated).toBe(false);
  expect(doc.entries.map((e) => e.path)).toEqual(EXPECTED);
  const r2019 = doc.entries.find((e) => e.name === 'report-2019.txt')!;
  const st = fs.statSync(path.join(dir, 'docs', 'old', 'report-2019.txt'));
  expect(r2019).toEqual({ path: 'old/report-2019.txt', name: 'report-2019.txt', type: 'file', size: 5, mtime: new Date(st.mtimeMs).toISOString() });
  expect(doc.entries.find((e) => e.name === 'reports')).toMatchObject({ type: 'directory', size: null });
  // Accept: application/json asks for the same.
  const viaAccept = await send(server.port, '/files/docs/?q=RePoRt', { Accept: 'application/json' });
  expect(JSON.parse(viaAccept.body.toString())).toEqual(doc);
});

test('HTML: a table of matches whose links lead to the files, the term kept in the form, under the listing CSP without script', async () => {
  const res = await send(server.port, '/files/docs/?q=report');
  expect(res.status).toBe(200);
  expect(res.header('Content-Type')).toBe('text/html; charset=utf-8');
  expect(res.header('Vary')!.split(/,\s*/)).toContain('Accept');
  const html = res.body.toString();
  expect(html).toContain('<input type="search" name="q" value="report"');
  expect(html).not.toContain('<script');
  const style = html.slice(html.indexOf('<style>') + 7, html.indexOf('</style>'));
  const hash = `'sha256-${createHash('sha256').update(style).digest('base64')}'`;
  expect(res.header('Content-Security-Policy')).toBe(
    `default-src 'none'; style-src ${hash}; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  );
  const links = [...html.matchAll(/<td class="name"><a href="([^"]*)">([^<]*)<\/a>/g)].map((m) => [m[1]!, m[2]!]);
  expect(links.map(([, text]) => text!.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n))))).toEqual(EXPECTED.map((p) => (p === 'reports' ? 'reports/' : p)));
  for (const [href] of links) {
    const target = new URL(href!, `http://x/files/docs/`).pathname;
    const got = await send(server.port, target);
    expect([target, got.status]).toEqual([target, 200]);
  }
  expect((await send(server.port, '/files/docs/a%20b/REPORT%20%233.md')).body.toString()).toBe('r3');
  expect(html).toContain('5 matches for “report” below this folder.');
  expect(html).not.toContain('class="note truncated"');
});

test('a term matching nothing finds nothing; an empty term is the plain listing; + in the query is a space', async () => {
  const none = JSON.parse((await send(server.port, '/files/docs/?q=zzz-nothing&json')).body.toString()) as { entries: Match[] };
  expect(none.entries).toEqual([]);
  const empty = await send(server.port, '/files/docs/?q=');
  expect(empty.body.toString()).toContain('<tr class="file" data-name="unrelated.txt"');
  const spaced = JSON.parse((await send(server.port, '/files/docs/?q=report+%233&json')).body.toString()) as { query: string; entries: Match[] };
  expect(spaced.query).toBe('report #3');
  expect(spaced.entries.map((e) => e.path)).toEqual(['a b/REPORT #3.md']);
});

test('results stop at 1,000 and say so, in JSON and in HTML', async () => {
  const doc = JSON.parse((await send(server.port, '/files/many/?q=match&json')).body.toString()) as { entries: Match[]; truncated: boolean };
  expect(doc.entries).toHaveLength(1000);
  expect(doc.truncated).toBe(true);
  expect(new Set(doc.entries.map((e) => e.path)).size).toBe(1000);
  const html = (await send(server.port, '/files/many/?q=match')).body.toString();
  expect(html).toContain('class="note truncated"');
  // Below the cap, not truncated.
  const nested = JSON.parse((await send(server.port, '/files/many/nested/?q=match&json')).body.toString()) as { entries: Match[]; truncated: boolean };
  expect(nested.entries).toHaveLength(550);
  expect(nested.truncated).toBe(false);
});

test('a walk out of time stops and says it was truncated', async () => {
  const r = await searchNames(path.join(dir, 'many'), 'match', policy, { timeMs: 0 });
  expect(r.truncated).toBe(true);
  expect(r.matches.length).toBeLessThan(1100);
});

test('searches past the limit at once are refused (503 over the wire), and the slot frees when one ends', async () => {
  const first = searchNames(path.join(dir, 'many'), 'match', policy, { maxConcurrent: 1 });
  await expect(searchNames(path.join(dir, 'docs'), 'report', policy, { maxConcurrent: 1 })).rejects.toBeInstanceOf(SearchBusy);
  expect((await first).matches.length).toBe(1000);
  expect((await searchNames(path.join(dir, 'docs'), 'report', policy, { maxConcurrent: 1 })).matches.map((m) => m.path)).toEqual(EXPECTED);
  // Many clients at once: each gets its results or a 503 with Retry-After, never an error or a hang.
  const answers = await Promise.all(Array.from({ length: 12 }, () => send(server.port, '/files/many/?q=match&json')));
  for (const a of answers) {
    expect([200, 503]).toContain(a.status);
    if (a.status === 503) expect(a.header('Retry-After')).toBe('1');
  }
  expect(answers.some((a) => a.status === 200)).toBe(true);
});
