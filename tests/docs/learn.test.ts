// The learning path (docs/learn/) stays true: its excerpts match the source,
// every file, symbol, test and RFC section it names exists, its links
// resolve, and every wire example is what the real server sends.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { ROOT, type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';

const LEARN = path.join(ROOT, 'docs', 'learn');
const STAGE_PAGES = [
  '01-bind-to-a-port.md',
  '02-respond-with-200.md',
  '03-extract-url-path.md',
  '04-respond-with-body.md',
  '05-read-header.md',
  '06-concurrent-connections.md',
  '07-return-a-file.md',
  '08-read-request-body.md',
  '09-compression-headers.md',
  '10-multiple-compression-schemes.md',
  '11-gzip-compression.md',
  '12-persistent-connections.md',
  '13-concurrent-persistent-connections.md',
  '14-connection-closure.md',
];
const TOPIC_PAGES = [
  'framing-and-smuggling.md',
  'chunked-transfer.md',
  'conditional-requests.md',
  'ranges.md',
  'negotiation-and-compression.md',
  'safe-uploads.md',
  'path-safety.md',
  'timeouts.md',
  'performance.md',
];
const pages = fs.readdirSync(LEARN).filter((f) => f.endsWith('.md')).sort();
const text = (page: string) => fs.readFileSync(path.join(LEARN, page), 'utf8');
/** A page without its fenced code blocks (prose only). */
const prose = (page: string) => text(page).replace(/^```[\s\S]*?^```/gm, '');

test('every page of the path exists, and no page is left out of the index', () => {
  for (const p of ['index.md', ...STAGE_PAGES, ...TOPIC_PAGES]) expect(pages).toContain(p);
  const index = text('index.md');
  for (const p of [...STAGE_PAGES, ...TOPIC_PAGES]) expect(index).toContain(`](${p})`);
});

test('the README links the learning path', () => {
  expect(fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8')).toContain('](docs/learn/index.md)');
});

test.each([...STAGE_PAGES, ...TOPIC_PAGES])('%s has the sections every page promises', (page) => {
  const t = text(page);
  const sections = STAGE_PAGES.includes(page)
    ? ['## On the wire', '## The concept', '## In the code', '## The test that proves it', '## Mistakes that fail this stage', '## Watch it yourself']
    : ['## On the wire', '## The concept', '## In the code', '## The tests that cover it', '## Watch it yourself'];
  for (const s of sections) expect(t).toContain(`\n${s}\n`);
  expect(t).toMatch(/```http-exchange/);
  expect(t).toMatch(/<!-- excerpt: /);
});

test('excerpts match the source, and every file and symbol named exists (npm run learn regenerates)', () => {
  let out: string;
  try {
    out = execFileSync(process.execPath, [path.join(ROOT, 'scripts', 'learn-excerpts.mjs'), '--check'], { encoding: 'utf8' });
  } catch (e) {
    out = (e as { stdout: string }).stdout;
  }
  expect(JSON.parse(out)).toEqual({ stale: [], missing: [], broken: [] });
});

const rfc = JSON.parse(fs.readFileSync(path.join(LEARN, 'rfc-sections.json'), 'utf8')) as Record<string, Record<string, string>>;

test.each(pages)('%s cites only real RFC 9110/9112 sections, with their real titles', (page) => {
  const cites = [...prose(page).matchAll(/RFC\s(\d{4})\s§(\d+(?:\.\d+)*)(?:\s"([^"]+)")?/g)];
  for (const [cite, doc, section, title] of cites) {
    const sections = rfc[doc!];
    expect({ cite, known: sections !== undefined && section! in sections }).toEqual({ cite, known: true });
    if (title !== undefined) expect({ cite, title: title.replace(/\s+/g, ' ') }).toEqual({ cite, title: sections![section!] });
  }
  // A bare "§n" without its RFC would escape the check.
  expect(prose(page).match(/(?<!RFC\s\d{4}\s)§\d/g) ?? []).toEqual([]);
});

test.each(pages)('%s quotes only test names that exist in the file it names', (page) => {
  for (const [, file, name] of prose(page).matchAll(/`(tests\/[\w./-]+\.ts)` › "([^"]+)"/g)) {
    const source = fs.readFileSync(path.join(ROOT, file!), 'utf8').replace(/\\'/g, "'");
    expect({ file, name, found: source.includes(name!) }).toEqual({ file, name, found: true });
  }
});

/** GitHub's anchor for a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N} _-]/gu, '')
    .replace(/ /g, '-');

test.each(pages)('%s links only to files (and headings) that exist', (page) => {
  for (const [, target] of prose(page).matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^[a-z]+:/.test(target!)) continue; // absolute URL
    const [file, anchor] = target!.split('#');
    const resolved = file === '' ? path.join(LEARN, page) : path.resolve(LEARN, file!);
    expect({ target, exists: fs.existsSync(resolved) }).toEqual({ target, exists: true });
    if (anchor !== undefined && resolved.endsWith('.md')) {
      const headings = [...fs.readFileSync(resolved, 'utf8').matchAll(/^#+ (.+)$/gm)].map((m) => slug(m[1]!));
      expect({ target, anchor: headings.includes(anchor) }).toEqual({ target, anchor: true });
    }
  }
});

// ---------------------------------------------------------------------------
// Wire examples: fenced blocks with the info string `http-exchange`.
//   > text      bytes the client sends (\r \n \t \\ \xHH are escapes; no implied newline)
//   < text      bytes the server must send back
//   < (gzip of "abc", 23 bytes)   a coded body: compared decoded, and by length
//   # text      a note for the reader; also ends a response
//   (server closes the connection) | (connection stays open) | (wait N ms)
// In a response, a field value holding … matches anything (only for fields
// whose value legitimately varies: ETag, Last-Modified, Date); a value
// {name} is remembered, and {name} in a later request line is replaced by it.
// `http-exchange args="--opt value"` runs the block against a server
// started with those extra options.

const VARYING = new Set(['etag', 'last-modified', 'date']);

type Step =
  | { kind: 'send'; bytes: Buffer }
  | { kind: 'expect'; lines: string[] }
  | { kind: 'closed' }
  | { kind: 'open' }
  | { kind: 'wait'; ms: number };

interface Exchange {
  page: string;
  args: string[];
  steps: Step[];
  source: string;
}

function unescape(s: string): Buffer {
  const parts: Buffer[] = [];
  let lit = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      lit += s[i];
      continue;
    }
    parts.push(Buffer.from(lit, 'utf8'));
    lit = '';
    const c = s[++i];
    if (c === 'r') parts.push(Buffer.from('\r'));
    else if (c === 'n') parts.push(Buffer.from('\n'));
    else if (c === 't') parts.push(Buffer.from('\t'));
    else if (c === '\\') parts.push(Buffer.from('\\'));
    else if (c === 'x') {
      parts.push(Buffer.from([parseInt(s.slice(i + 1, i + 3), 16)]));
      i += 2;
    } else throw new Error(`unknown escape \\${c} in ${JSON.stringify(s)}`);
  }
  parts.push(Buffer.from(lit, 'utf8'));
  return Buffer.concat(parts);
}

function exchangesOf(page: string): Exchange[] {
  const out: Exchange[] = [];
  for (const m of text(page).matchAll(/^```http-exchange([^\n]*)\n([\s\S]*?)^```/gm)) {
    const args = /args="([^"]*)"/.exec(m[1]!)?.[1]?.split(' ').filter((a) => a !== '') ?? [];
    const steps: Step[] = [];
    for (const line of m[2]!.split('\n')) {
      if (line === '') continue;
      const last = steps.at(-1);
      if (line.startsWith('> ') || line === '>') {
        const bytes = unescape(line.slice(2));
        if (last?.kind === 'send') last.bytes = Buffer.concat([last.bytes, bytes]);
        else steps.push({ kind: 'send', bytes });
      } else if (line.startsWith('< ') || line === '<') {
        if (last?.kind === 'expect') last.lines.push(line.slice(2));
        else steps.push({ kind: 'expect', lines: [line.slice(2)] });
      } else if (line.startsWith('#')) {
        steps.push({ kind: 'wait', ms: 0 });
      } else if (line === '(server closes the connection)') steps.push({ kind: 'closed' });
      else if (line === '(connection stays open)') steps.push({ kind: 'open' });
      else if (/^\(wait \d+ ms\)$/.test(line)) steps.push({ kind: 'wait', ms: Number(/\d+/.exec(line)![0]) });
      else throw new Error(`${page}: unreadable line in an http-exchange block: ${JSON.stringify(line)}`);
    }
    out.push({ page, args, steps, source: m[2]! });
  }
  return out;
}

const DECODERS: Record<string, (b: Buffer) => Buffer> = {
  gzip: zlib.gunzipSync,
  br: zlib.brotliDecompressSync,
  deflate: zlib.inflateSync,
};

async function run(ex: Exchange, port: number): Promise<void> {
  const vars = new Map<string, string>();
  const c = await RawClient.connect(port);
  let lastSent = '';
  try {
    for (const step of ex.steps) {
      if (step.kind === 'send') {
        lastSent = step.bytes.toString('latin1').replace(/\{(\w+)\}/g, (_, name: string) => vars.get(name) ?? `{${name}}`);
        c.send(lastSent);
      } else if (step.kind === 'wait') {
        await new Promise((r) => setTimeout(r, step.ms));
      } else if (step.kind === 'closed') {
        await c.expectClosed(5000);
      } else if (step.kind === 'open') {
        await c.expectOpenAndQuiet(200);
      } else {
        const coded = /^\((gzip|br|deflate) of "(.*)", (\d+) bytes\)$/.exec(step.lines.at(-1)!);
        const lines = coded === null ? step.lines : step.lines.slice(0, -1);
        const expected = Buffer.concat(lines.map(unescape));
        const cut = expected.indexOf('\r\n\r\n');
        if (cut === -1) throw new Error(`${ex.page}: an expected response without the empty line that ends its head`);
        // The head is compared as UTF-8 text (pages write … in it); the body as bytes.
        const [statusLine, ...fieldLines] = expected.subarray(0, cut).toString('utf8').split('\r\n');
        const res = await c.readResponse({ head: lastSent.startsWith('HEAD ') });
        expect(res.statusLine).toBe(statusLine);
        const want = fieldLines.map((l) => {
          const colon = l.indexOf(': ');
          return [l.slice(0, colon), l.slice(colon + 2)] as [string, string];
        });
        const got = res.fieldLines.map(([name, value], i) => {
          const w = want[i];
          if (w === undefined || w[0] !== name) return [name, value];
          const capture = /^\{(\w+)\}$/.exec(w[1]);
          if (capture !== null) {
            vars.set(capture[1]!, value);
            return w;
          }
          if (w[1].includes('…')) {
            expect({ field: name, mayVary: VARYING.has(name.toLowerCase()) }).toEqual({ field: name, mayVary: true });
            const re = new RegExp(`^${w[1].split('…').map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
            return re.test(value) ? w : [name, value];
          }
          return [name, value];
        });
        expect(got).toEqual(want);
        if (coded === null) {
          expect(res.body.toString('latin1')).toBe(expected.subarray(cut + 4).toString('latin1'));
        } else {
          expect(res.body.length).toBe(Number(coded[3]));
          expect(DECODERS[coded[1]!]!(res.body).toString('utf8')).toBe(unescape(coded[2]!).toString('utf8'));
        }
      }
    }
  } finally {
    c.close();
  }
}

describe('wire examples agree with what the server really sends', () => {
  let dir: string;
  const servers = new Map<string, RunningServer>();

  beforeAll(() => {
    // The folder every example's --directory holds (docs/learn/index.md describes it).
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'learn-'));
    fs.writeFileSync(path.join(dir, 'hello.txt'), 'Hello, world!\n');
    const jan2024 = new Date('2024-01-01T00:00:00Z');
    fs.utimesSync(path.join(dir, 'hello.txt'), jan2024, jan2024);
  });
  afterAll(async () => {
    await Promise.all([...servers.values()].map((s) => s.stop()));
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function serverFor(args: string[]): Promise<RunningServer> {
    const key = args.join(' ');
    let s = servers.get(key);
    if (s === undefined) {
      s = await startServer(['--directory', dir, ...args]);
      servers.set(key, s);
    }
    return s;
  }

  const all = pages.flatMap(exchangesOf).map((ex, i) => [`${ex.page} #${i + 1}: ${ex.source.split('\n')[0]!.slice(2, 60)}`, ex] as const);
  test.each(all)('%s', async (_name, ex) => {
    await run(ex, (await serverFor(ex.args)).port);
  });
});
