// No spelling of a path gets around a policy: percent-encoding, `//`,
// `/./`, `/../`, a trailing slash, absolute-form targets, another Host,
// a query, HEAD or OPTIONS in place of GET. The policies wrap the whole
// router and look at the method only, so each write below is refused by
// the policy itself (its exact status), not by a 404 that happened to
// match; and the folder is left exactly as it was.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { KNOWN_METHODS } from '../../app/http/router';
import { type RunningServer } from '../helpers/server';
import { launch, removeScratch, scratch, tree } from '../uploads/helpers';
import { basic, exchange } from './helpers';

/** Spellings of `/files/x` and its neighbours that the parser accepts. */
const SPELLINGS = [
  '/files/x',
  '/files/%78',
  '//files/x',
  '/files//x',
  '/files/./x',
  '/./files/x',
  '/files/../files/x',
  '/foo/../files/x',
  '/files/a/../x',
  '/files/%2e%2e/x',
  '/files/%2E%2E/%2e%2e/x',
  '/files/.%2e/x',
  '/files/%2e/x',
  '/files/x/',
  '/files/',
  '/files',
  '/%66iles/x',
  '/FILES/x',
  '/files/sub%2Fx',
  '/files%2Fx',
  '/files\\x',
  '/files/%00x',
  '/files/x%20',
  '/files/x?q=1',
  'http://other.example/files/x',
  'HTTP://127.0.0.1/files/x',
  'http://other.example:80//files/x',
  'http://127.0.0.1/files/%2e%2e/x',
  '/',
  '/echo/x',
  '/nothing-here',
];
/** Spellings the parser refuses with 400 before any handler or policy runs. */
const REFUSED_BY_PARSER = ['/files/x#frag', 'files/x', '*'];
const WRITES = ['PUT', 'POST', 'DELETE', 'PATCH', 'MKCOL', 'MOVE', 'BREW'];

let dir: string;
const servers: RunningServer[] = [];
beforeAll(() => {
  dir = scratch('spellings-');
  writeFileSync(path.join(dir, 'x'), 'original');
});
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  removeScratch(dir);
});

async function start(args: string[]): Promise<number> {
  const s = await launch(['--directory', dir, ...args]);
  servers.push(s);
  return s.port;
}

/** A request with a small body and a Host that is not ours. */
function head(method: string, target: string, extra = ''): string {
  return `${method} ${target} HTTP/1.1\r\nHost: other.example\r\n${extra}Content-Length: 2\r\n\r\n`;
}

function untouched(): void {
  expect(tree(dir)).toEqual(['x']);
  expect(readFileSync(path.join(dir, 'x'), 'utf8')).toBe('original');
}

async function statuses(port: number, methods: string[], targets: string[], extra = ''): Promise<string[]> {
  const out: string[] = [];
  for (const m of methods) for (const t of targets) out.push(`${m} ${t} ${(await exchange(port, head(m, t, extra), 'hi')).status}`);
  return out;
}

const each = (methods: string[], targets: string[], status: number) => methods.flatMap((m) => targets.map((t) => `${m} ${t} ${status}`));

test('--auth: every method on every spelling is 401 without credentials', async () => {
  const port = await start(['--auth', 'alice:pw']);
  const methods = [...WRITES, 'GET', 'HEAD', 'OPTIONS', 'TRACE'];
  expect(await statuses(port, methods, SPELLINGS)).toEqual(each(methods, SPELLINGS, 401));
  // Wrong credentials on the trickiest spellings (nine: a tenth failure would start the throttle's 429s).
  const tricky = ['//files/x', '/files/%2e%2e/x', '/files/.%2e/x', 'http://other.example/files/x', '/foo/../files/x', '/files/x/', '/%66iles/x', '/files%2Fx', '/files\\x'];
  expect(await statuses(port, ['PUT'], tricky, `Authorization: ${basic('alice', 'wrong')}\r\n`)).toEqual(each(['PUT'], tricky, 401));
  expect(await statuses(port, WRITES, REFUSED_BY_PARSER)).toEqual(each(WRITES, REFUSED_BY_PARSER, 400));
  untouched();
});

test('--auth-writes: every write on every spelling is 401 without credentials; reads pass', async () => {
  const port = await start(['--auth', 'alice:pw', '--auth-writes']);
  expect(await statuses(port, WRITES, SPELLINGS)).toEqual(each(WRITES, SPELLINGS, 401));
  expect(await statuses(port, WRITES, SPELLINGS, 'Expect: 100-continue\r\n')).toEqual(each(WRITES, SPELLINGS, 401));
  untouched();
  const reads = await statuses(port, ['GET', 'HEAD', 'OPTIONS'], ['/files/x', '/files/%78', 'http://other.example/files/x', '/echo/x']);
  expect(reads.filter((r) => r.endsWith(' 401'))).toEqual([]);
  expect((await exchange(port, 'GET /files/%78 HTTP/1.1\r\nHost: h\r\n\r\n')).body.toString()).toBe('original');
});

test('--read-only: every write on every spelling is 405 (501 for a method the server does not know), and no Allow offers a write', async () => {
  const port = await start(['--read-only']);
  // MKCOL and MOVE become known methods with WebDAV; until then the policy answers 501 for them, as the router would.
  const known = WRITES.filter((m) => KNOWN_METHODS.has(m));
  const unknown = WRITES.filter((m) => !KNOWN_METHODS.has(m));
  expect(unknown).toContain('BREW');
  expect(await statuses(port, known, SPELLINGS)).toEqual(each(known, SPELLINGS, 405));
  expect(await statuses(port, unknown, SPELLINGS)).toEqual(each(unknown, SPELLINGS, 501));
  expect(await statuses(port, known, SPELLINGS, 'Expect: 100-continue\r\n')).toEqual(each(known, SPELLINGS, 405));
  untouched();
  let seen = 0;
  for (const m of ['OPTIONS', 'TRACE', 'PUT']) {
    for (const t of [...SPELLINGS, ...(m === 'OPTIONS' ? ['*'] : [])]) {
      const allow = (await exchange(port, head(m, t), 'hi')).header('allow');
      if (allow === undefined) continue; // a 404 from the fallback
      seen++;
      expect([m, t, allow.split(', ').filter((x) => !['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(x))]).toEqual([m, t, []]);
    }
  }
  expect(seen).toBeGreaterThan(SPELLINGS.length); // every PUT's 405, and the OPTIONS of every route
  untouched();
});
