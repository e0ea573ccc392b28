// Listing order is Intl.Collator's (English, numbers as numbers, case and
// accents ignored; ties by code point), folders first, whatever the names:
// the fast path for plain-ASCII names (sort keys) must agree with the
// collator on every printable character and on numbers with leading zeros.
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { send, tempDir } from './support';

let dir: string;
let server: RunningServer;

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const byName = (a: string, b: string) => collator.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0);

/** A small deterministic PRNG (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Printable ASCII a file name may hold, digits weighted up so numbers and leading zeros are common. */
const ALPHABET = ' !"#$%&\'()*+,-.0123456789:;<=>?@ABCXYZ[\\]^_`abcxyz{|}~00000011223399';

/** `n` distinct names that are valid, visible file names: no `/`, no leading `.`. */
function names(rand: () => number, n: number, extra = ''): string[] {
  const out = new Set<string>();
  while (out.size < n) {
    let s = '';
    const len = 1 + Math.floor(rand() * 10);
    for (let i = 0; i < len; i++) s += (ALPHABET + extra)[Math.floor(rand() * (ALPHABET.length + extra.length))];
    if (!s.startsWith('.') && !s.includes('/')) out.add(s);
  }
  return [...out];
}

const ASCII_FILES = names(random(1), 400);
const ASCII_FOLDERS = names(random(2), 40);
// Non-ASCII names in a folder take the collator's own path.
const MIXED_FILES = names(random(3), 200, 'éÉèçÇüß日本');

beforeAll(async () => {
  dir = tempDir('listing-order');
  fs.mkdirSync(path.join(dir, 'ascii'));
  fs.mkdirSync(path.join(dir, 'mixed'));
  for (const n of ASCII_FOLDERS) fs.mkdirSync(path.join(dir, 'ascii', n));
  for (const n of ASCII_FILES.filter((f) => !ASCII_FOLDERS.includes(f))) fs.writeFileSync(path.join(dir, 'ascii', n), '');
  for (const n of MIXED_FILES) fs.writeFileSync(path.join(dir, 'mixed', n), '');
  server = await startServer(['--directory', dir]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The names the rows link to, in order, decoded (folders keep their `/`). */
function rowNames(html: string): string[] {
  return [...html.matchAll(/<td class="name"><a href="([^"]*)">/g)].map((m) => decodeURIComponent(m[1]!.replace(/&#(\d+);/g, (_, c: string) => String.fromCharCode(Number(c)))));
}

test('plain-ASCII names: folders first, each in the collator order', async () => {
  const html = (await send(server.port, '/files/ascii/')).body.toString();
  expect(rowNames(html).filter((n) => n !== '../')).toEqual([...[...ASCII_FOLDERS].sort(byName).map((n) => `${n}/`), ...ASCII_FILES.filter((f) => !ASCII_FOLDERS.includes(f)).sort(byName)]);
});

test('names with accents and other scripts: the collator order', async () => {
  const html = (await send(server.port, '/files/mixed/')).body.toString();
  expect(rowNames(html).filter((n) => n !== '../')).toEqual([...MIXED_FILES].sort(byName));
});
