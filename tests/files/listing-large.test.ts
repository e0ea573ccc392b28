// A folder of 30,000 files (anyone who can PUT can make one) is listed in
// pages without stalling other clients (issue 12 item 7):
// - while three clients fetch its listing, cold and then cached, another
//   client's /echo requests are each answered within 100 ms (not counting
//   time the OS kept the server or the test waiting for a CPU);
// - following the next-page links shows every entry exactly once, folders
//   first, in natural order, with the folder's totals on every page;
// - an added, removed or rewritten file shows on the next request (sizes
//   within 1 s);
// - the /echo bound holds too while clients fetch the views that stat
//   every entry (the whole folder as JSON, pages in size and time order);
// - HEAD gets GET's head, and every coding decodes to the identity page.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';
import { send, tempDir } from './support';

const FILES = 30_000;
const FOLDERS = ['alpha', 'Beta', 'gamma10', 'gamma9'];
/** Natural order: folders first (gamma9 before gamma10), then file-0 … file-29999. */
const EXPECTED = [...['alpha/', 'Beta/', 'gamma9/', 'gamma10/'], ...Array.from({ length: FILES }, (_, i) => `file-${i}.txt`)];
const PAGE = 1000;
const PAGES = Math.ceil(EXPECTED.length / PAGE);

let dir: string;
let big: string;
let server: RunningServer;

beforeAll(async () => {
  dir = tempDir('listing-large');
  big = path.join(dir, 'big');
  fs.mkdirSync(big);
  for (const f of FOLDERS) fs.mkdirSync(path.join(big, f));
  // Created in shuffled order, so the folder's own order is no help in sorting.
  const order = Array.from({ length: FILES }, (_, i) => (i * 7919) % FILES);
  for (const i of order) fs.writeFileSync(path.join(big, `file-${i}.txt`), '');
  server = await startServer(['--directory', dir]);
}, 120_000);
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Sends requests one after another on one keep-alive connection. */
class Client {
  private constructor(private readonly c: RawClient) {}
  static async open(port: number): Promise<Client> {
    return new Client(await RawClient.connect(port));
  }
  async get(target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<WireResponse> {
    let head = `${method} ${target} HTTP/1.1\r\nHost: localhost\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    this.c.send(`${head}\r\n`);
    return this.c.readResponse({ head: method === 'HEAD', timeoutMs: 30_000 });
  }
  close(): void {
    this.c.close();
  }
}

/** The names the rows of a listing page link to, in order (no parent or page links). */
function rowNames(html: string): string[] {
  return [...html.matchAll(/<td class="name"><a href="([^"]*)">/g)].map((m) => decodeURIComponent(m[1]!)).filter((h) => h !== '../');
}

/** The href of the link with `rel`, if any. */
function relLink(html: string, rel: 'next' | 'prev'): string | undefined {
  return new RegExp(`<a href="([^"]*)" rel="${rel}">`).exec(html)?.[1];
}

/** The footer's text. */
function footer(html: string): string {
  return /<footer>(.*?)<\/footer>/.exec(html)?.[1] ?? '';
}

/**
 * Time in ms the thread has spent runnable but waiting for a CPU since it
 * started (Linux /proc/…/schedstat, second field, in ns).
 * @param pid a process id (its main thread: the server's event loop) or `'thread-self'`.
 */
function runQueueWaitMs(pid: number | 'thread-self'): number {
  return Number(fs.readFileSync(`/proc/${pid}/schedstat`, 'latin1').split(' ')[1]) / 1e6;
}

/** Page 1 gzip-coded, page 1 identity, and every page in turn gzip-coded. */
const PAGE_VIEWS: ReadonlyArray<[string | null, (i: number) => string]> = [
  ['gzip', () => '/files/big/'],
  [null, () => '/files/big/'],
  ['gzip', (i) => (i % PAGES === 0 ? '/files/big/' : `/files/big/?page=${1 + (i % PAGES)}`)],
];

/**
 * While clients fetch views of the listing for 3 s, 10 ms apart (by
 * default {@link PAGE_VIEWS}), another
 * client sends /echo on a keep-alive connection every few ms.
 * @returns the /echo latencies in ms, each less the time the OS kept the
 *   server's event loop or this test's thread waiting for a CPU meanwhile.
 */
async function echoLatenciesWhileListing(views: ReadonlyArray<[string | null, (i: number) => string]> = PAGE_VIEWS): Promise<number[]> {
  const echo = await Client.open(server.port);
  const latencies: number[] = [];
  let stop = false;
  const serverPid = server.process.pid!;
  const echoing = (async () => {
    while (!stop) {
      const waited = runQueueWaitMs(serverPid) + runQueueWaitMs('thread-self');
      const t = performance.now();
      const res = await echo.get('/echo/x');
      const wall = performance.now() - t;
      latencies.push(Math.max(0, wall - (runQueueWaitMs(serverPid) + runQueueWaitMs('thread-self') - waited)));
      expect(res.body.toString()).toBe('x');
      await new Promise((r) => setTimeout(r, 3));
    }
  })();
  while (latencies.length < 20) await new Promise((r) => setTimeout(r, 10));
  latencies.length = 0; // the echo path is warm; the listing is not

  const until = performance.now() + 3000;
  const fetched = views.map(() => 0);
  const lister = async (k: number, coding: string | null, targetOf: (i: number) => string) => {
    const c = await Client.open(server.port);
    try {
      for (let i = 0; i === 0 || performance.now() < until; i++) {
        const res = await c.get(targetOf(i), coding === null ? {} : { 'Accept-Encoding': coding });
        expect(res.status).toBe(200);
        expect(res.header('Content-Encoding')).toBe(coding ?? undefined);
        expect(res.body.length).toBe(Number(res.header('Content-Length')));
        fetched[k]!++;
        await new Promise((r) => setTimeout(r, 10)); // a client reads what it fetched
      }
    } finally {
      c.close();
    }
  };
  try {
    await Promise.all(views.map(([coding, targetOf], k) => lister(k, coding, targetOf)));
  } finally {
    stop = true;
    await echoing;
    echo.close();
  }
  expect(Math.min(...fetched)).toBeGreaterThan(0);
  expect(latencies.length).toBeGreaterThan(0); // about 500 when the server keeps up
  return latencies;
}

// The test machine is shared (2 cores, other test files and sessions): the
// OS can keep the server or this test off the CPU for 100 ms or more even
// when it has nothing to do. So each latency leaves out the time either
// waited for a CPU (a stall of the server's own making is time it runs, and
// stays counted), and a run spoiled anyway is tried again, cold again (the
// folder changed, so it is read anew), up to three runs.
test('while three clients fetch a 30,000-entry listing, cold then cached, every /echo is answered within 100 ms', async () => {
  const worst: number[] = [];
  for (let run = 0; run < 3 && !(Math.min(...worst) < 100); run++) {
    if (run > 0) {
      fs.writeFileSync(path.join(big, 'spoiled-run'), '');
      fs.rmSync(path.join(big, 'spoiled-run'));
    }
    worst.push(Math.max(...(await echoLatenciesWhileListing())));
  }
  expect(Math.min(...worst)).toBeLessThan(100);
}, 90_000);

// The same for the views that need every entry's stats: the whole folder
// as JSON (30,000 rows stat()ed and rendered) and pages in size and time order.
test('while clients fetch the 30,000-entry folder as JSON and in size and time order, every /echo is answered within 100 ms', async () => {
  const views: Array<[string | null, (i: number) => string]> = [
    ['gzip', () => '/files/big/?json'],
    [null, (i) => `/files/big/?sort=size&order=desc&page=${1 + (i % PAGES)}`],
    ['gzip', (i) => `/files/big/?sort=mtime&page=${1 + (i % PAGES)}`],
  ];
  const worst: number[] = [];
  for (let run = 0; run < 3 && !(Math.min(...worst) < 100); run++) {
    fs.writeFileSync(path.join(big, 'cold-again'), ''); // the folder changed: read and stat()ed anew
    fs.rmSync(path.join(big, 'cold-again'));
    worst.push(Math.max(...(await echoLatenciesWhileListing(views))));
  }
  expect(Math.min(...worst)).toBeLessThan(100);
  const doc = JSON.parse((await send(server.port, '/files/big/?json')).body.toString()) as { entries: Array<{ name: string }> };
  expect(doc.entries.map((e) => e.name + (e.name.includes('.') ? '' : '/'))).toEqual(EXPECTED);
}, 90_000);

test('following the next-page links shows every entry once, folders first, in natural order; each page says the totals', async () => {
  const c = await Client.open(server.port);
  const seen: string[] = [];
  let target: string | undefined = '/files/big/';
  let pages = 0;
  try {
    while (target !== undefined) {
      const res = await c.get(target);
      expect(res.status).toBe(200);
      const html = res.body.toString();
      pages++;
      const names = rowNames(html);
      expect(names.length).toBe(pages < PAGES ? PAGE : EXPECTED.length - PAGE * (PAGES - 1));
      seen.push(...names);
      expect(footer(html)).toContain(`4 folders, 30,000 files`);
      expect(html).toContain(`Page ${pages} of ${PAGES}`);
      // The previous-page link leads back: page 2's to the folder's own URL.
      if (pages === 1) expect(relLink(html, 'prev')).toBeUndefined();
      else expect(relLink(html, 'prev')).toBe(pages === 2 ? './' : `?page=${pages - 1}`);
      const next = relLink(html, 'next');
      target = next === undefined ? undefined : `/files/big/${next}`;
    }
  } finally {
    c.close();
  }
  expect(pages).toBe(PAGES);
  expect(seen).toEqual(EXPECTED);
});

test('a page number past the last page or not a number is 404', async () => {
  expect((await send(server.port, `/files/big/?page=${PAGES}`)).status).toBe(200);
  for (const q of [`page=${PAGES + 1}`, 'page=0', 'page=-1', 'page=x', 'page=', 'page=1e3']) {
    expect((await send(server.port, `/files/big/?${q}`)).status).toBe(404);
  }
});

test('an added, removed or renamed file shows on the very next request; a rewritten one within 1 s', async () => {
  const last = `/files/big/?page=${PAGES}`;
  const added = path.join(big, `file-${FILES}.txt`);
  fs.writeFileSync(added, 'new!');
  let html = (await send(server.port, last)).body.toString();
  expect(rowNames(html).slice(-2)).toEqual([`file-${FILES - 1}.txt`, `file-${FILES}.txt`]);
  expect(footer(html)).toContain('4 folders, 30,001 files');
  expect(html).toContain('<span title="4 bytes">4 B</span>');

  fs.renameSync(added, path.join(big, 'zz-renamed.txt'));
  html = (await send(server.port, last)).body.toString();
  expect(rowNames(html).slice(-2)).toEqual([`file-${FILES - 1}.txt`, 'zz-renamed.txt']);

  fs.rmSync(path.join(big, 'zz-renamed.txt'));
  html = (await send(server.port, last)).body.toString();
  expect(rowNames(html).at(-1)).toBe(`file-${FILES - 1}.txt`);
  expect(footer(html)).toContain('4 folders, 30,000 files');

  // Rewritten in place: the folder's times do not change, the file's size does.
  const first = (await send(server.port, '/files/big/')).body.toString();
  expect(first).toContain('<a href="file-0.txt">file-0.txt</a></td><td class="size"><span title="0 bytes">');
  fs.writeFileSync(path.join(big, 'file-0.txt'), 'twelve bytes');
  await new Promise((r) => setTimeout(r, 1100));
  html = (await send(server.port, '/files/big/')).body.toString();
  expect(html).toContain('<a href="file-0.txt">file-0.txt</a></td><td class="size"><span title="12 bytes">12 B</span>');
  fs.writeFileSync(path.join(big, 'file-0.txt'), '');
});

test.each(['gzip', 'br', 'deflate'])('a %s-coded page decodes to the identity page, and HEAD gets the same head as GET', async (coding) => {
  const decode = { gzip: zlib.gunzipSync, br: zlib.brotliDecompressSync, deflate: zlib.inflateSync }[coding]!;
  const identity = await send(server.port, '/files/big/?page=2');
  const coded = await send(server.port, '/files/big/?page=2', { 'Accept-Encoding': coding });
  expect(coded.header('Content-Encoding')).toBe(coding);
  expect(coded.header('Vary')).toBe('Accept, Accept-Encoding');
  expect(coded.body.length).toBeLessThan(identity.body.length / 5);
  expect(decode(coded.body).equals(identity.body)).toBe(true);
  for (const [get, headers] of [
    [identity, {}],
    [coded, { 'Accept-Encoding': coding }],
  ] as const) {
    const head = await send(server.port, '/files/big/?page=2', headers, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.fieldLines).toEqual(get.fieldLines);
  }
});
