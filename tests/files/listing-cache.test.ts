// The listing cache: pages and their coded variants are kept and reused, the
// bytes kept stay within the budget however many folders are listed, and an
// evicted folder is listed again correctly.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { ListingCache, type ListingPolicy, listingResponse } from '../../app/files/directory-listing';
import { RequestParser } from '../../app/http/parser';
import { type Request, RequestBody } from '../../app/http/request';
import type { Response } from '../../app/http/response';
import { tempDir } from './support';

let dir: string;
const FOLDERS = 12;
const FILES = 250;
const policy: ListingPolicy = { isHidden: (n) => n.startsWith('.'), isInside: () => true };

beforeAll(() => {
  dir = tempDir('listing-cache');
  for (let f = 0; f < FOLDERS; f++) {
    fs.mkdirSync(path.join(dir, `d${f}`));
    for (let i = 0; i < FILES; i++) fs.writeFileSync(path.join(dir, `d${f}`, `folder-${f}-file-${i}.txt`), '');
  }
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A real request head, parsed from its bytes. */
function request(target: string, headers: Record<string, string> = {}): Request {
  const p = new RequestParser();
  let head = `GET ${target} HTTP/1.1\r\nHost: x\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  p.push(Buffer.from(`${head}\r\n`, 'latin1'));
  const ev = p.next();
  if (ev === null || ev.type !== 'head') throw new Error('no head');
  return { ...ev.head, body: new RequestBody(0, () => undefined) };
}

function list(cache: ListingCache, f: number, query = '', headers: Record<string, string> = {}): Promise<Response> {
  return listingResponse(request(`/files/d${f}/${query}`, headers), { dir: path.join(dir, `d${f}`), prefix: '/files/', segments: [`d${f}`], policy, writable: false }, cache);
}

function rows(body: Buffer): string[] {
  return [...body.toString().matchAll(/<td class="name"><a href="([^"]*)">/g)].map((m) => m[1]!).filter((h) => h !== '../');
}

test('a page and its gzip-coded variant are made once and then reused', async () => {
  const cache = new ListingCache({ pageSize: 100 });
  const a = await list(cache, 0);
  const b = await list(cache, 0);
  expect(b.body).toBe(a.body);
  const gzA = await list(cache, 0, '', { 'Accept-Encoding': 'gzip' });
  const gzB = await list(cache, 0, '', { 'Accept-Encoding': 'gzip' });
  expect(gzB.body).toBe(gzA.body);
  expect(zlib.gunzipSync(gzA.body as Buffer).equals(a.body as Buffer)).toBe(true);
  expect(a.codingNegotiated).toBe(true);
});

test('however many folders and codings are listed, the bytes kept stay within the budget; evicted folders list correctly again', async () => {
  const maxBytes = 250_000;
  const cache = new ListingCache({ maxBytes, pageSize: 100 });
  for (let round = 0; round < 2; round++) {
    for (let f = 0; f < FOLDERS; f++) {
      for (const [query, page] of [['', 1], ['?page=2', 2], ['?page=3', 3]] as const) {
        for (const coding of ['identity', 'gzip', 'br']) {
          const res = await list(cache, f, query, { 'Accept-Encoding': coding });
          expect(res.status).toBe(200);
          const body = coding === 'gzip' ? zlib.gunzipSync(res.body as Buffer) : coding === 'br' ? zlib.brotliDecompressSync(res.body as Buffer) : (res.body as Buffer);
          const expected = Array.from({ length: FILES }, (_, i) => `folder-${f}-file-${i}.txt`).slice((page - 1) * 100, page * 100);
          expect(rows(body)).toEqual(expected);
          // Coded variants are counted once settled: let them settle.
          await new Promise((r) => setImmediate(r));
          expect(cache.size).toBeLessThanOrEqual(maxBytes);
        }
      }
    }
  }
  expect(cache.size).toBeGreaterThan(maxBytes / 2); // it does keep what fits
});

test('a symlink whose target turns from a file into a folder is listed as a folder once the stats are stale', async () => {
  const cache = new ListingCache({ statsMaxAgeMs: 0 });
  const folder = path.join(dir, 'links');
  fs.mkdirSync(folder);
  fs.writeFileSync(path.join(dir, 'target'), 'file');
  fs.symlinkSync(path.join(dir, 'target'), path.join(folder, 'link'));
  const req = () => listingResponse(request('/files/links/'), { dir: folder, prefix: '/files/', segments: ['links'], policy, writable: false }, cache);
  expect(rows((await req()).body as Buffer)).toEqual(['link']);
  fs.rmSync(path.join(dir, 'target'));
  fs.mkdirSync(path.join(dir, 'target'));
  const res = await req();
  expect(res.status).toBe(200);
  expect(rows(res.body as Buffer)).toEqual(['link/']);
});

test('views that need every row (size order, JSON) are kept and reused, and stay within the budget with the rest', async () => {
  const cache = new ListingCache({ pageSize: 100 });
  for (const query of ['?sort=size&order=desc', '?sort=mtime&page=2', '?json', '?json&sort=size']) {
    const a = await list(cache, 1, query);
    const b = await list(cache, 1, query);
    expect([query, a.status]).toEqual([query, 200]);
    expect(b.body).toBe(a.body);
  }
  const json = JSON.parse((await list(cache, 1, '?json')).body!.toString()) as { entries: unknown[] };
  expect(json.entries).toHaveLength(FILES);
  const maxBytes = 200_000;
  const small = new ListingCache({ maxBytes, pageSize: 100 });
  for (let f = 0; f < FOLDERS; f++) {
    for (const query of ['?json', '?sort=size', '?sort=size&page=2', '']) {
      expect((await list(small, f, query)).status).toBe(200);
      await new Promise((r) => setImmediate(r));
      expect(small.size).toBeLessThanOrEqual(maxBytes);
    }
  }
});
