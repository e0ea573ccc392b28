// Failed logins are throttled per client address: after ten failures in a
// minute the client gets 429 with Retry-After, while every other address
// is served as before; checks still running count, so a burst of guesses
// is cut at ten. A login verified lately passes without a hash. The
// throttle's and the cache's memory is bounded.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { FailureThrottle, clientKey } from '../../app/access/throttle';
import { VerifiedCredentials } from '../../app/access/verified-credentials';
import { type RunningServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { curl } from '../files/support';
import { launch, removeScratch, scratch } from '../uploads/helpers';
import { basic, bcryptHash, exchange } from './helpers';

describe('over the wire', () => {
  let dir: string;
  let server: RunningServer;
  let port: number;
  beforeAll(async () => {
    dir = scratch('auth-throttle-');
    const users = path.join(dir, 'users');
    writeFileSync(users, `alice:${bcryptHash('alice-pw')}\nslow:${bcryptHash('slow-pw', 13)}\n`);
    server = await launch(['--auth-file', users, '--auth', 'bob:bob-pw']);
    port = server.port;
  });
  afterAll(async () => {
    await server?.stop();
    removeScratch(dir);
  });

  /** One GET /echo/x from `from` with `auth`: [status, Retry-After]. */
  async function get(from: string, auth?: string): Promise<[number, string | undefined]> {
    const r = await curl(['--interface', from, '-D', '-', '-o', '/dev/null', ...(auth === undefined ? [] : ['-H', `Authorization: ${auth}`]), `http://127.0.0.1:${port}/echo/x`]);
    const head = r.stdout.toString('latin1');
    const status = /^HTTP\/1\.1 (\d{3})/.exec(head);
    if (status === null) throw new Error(`no response: ${r.stderr}`);
    return [Number(status[1]), /^Retry-After: (.*)\r$/m.exec(head)?.[1]];
  }

  test('ten failures block that address with 429 and Retry-After; other addresses and cached logins pass', async () => {
    const me = '127.0.0.1';
    expect(await get(me, basic('alice', 'alice-pw'))).toEqual([200, undefined]); // verified, so cached
    for (let i = 0; i < 10; i++) expect(await get(me, basic('alice', `guess-${i}`))).toEqual([401, undefined]);
    const [status, retryAfter] = await get(me, basic('alice', 'guess-10'));
    expect(status).toBe(429);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(Number(retryAfter)).toBeLessThanOrEqual(60);
    // Right but not yet verified credentials are not even checked while blocked...
    expect((await get(me, basic('bob', 'bob-pw')))[0]).toBe(429);
    expect((await get(me))[0]).toBe(429);
    // ...while credentials verified before the block still pass without a check.
    expect(await get(me, basic('alice', 'alice-pw'))).toEqual([200, undefined]);
    // Nobody else is slowed.
    expect(await get('127.0.0.2')).toEqual([401, undefined]);
    expect(await get('127.0.0.2', basic('bob', 'bob-pw'))).toEqual([200, undefined]);
    expect(await get('127.0.0.2', basic('alice', 'wrong'))).toEqual([401, undefined]);
  });

  test('a burst of guesses at once: checks still running count, so no more than ten are verified', async () => {
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => get('127.0.0.3', basic('alice', `burst-${i}`))));
    const statuses = results.map(([s]) => s);
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(20);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });

  test('a slow hash (bcrypt cost 13) is verified off the event loop: other clients are answered meanwhile', async () => {
    const order: string[] = [];
    const slow = get('127.0.0.4', basic('slow', 'slow-pw')).then(([s]) => order.push(`slow ${s}`));
    await new Promise((r) => setTimeout(r, 50));
    // Twenty requests on one keep-alive connection: a hash on the event loop
    // (even bcryptjs's "async" one, which runs in 100 ms slices) would hold each.
    const c = await RawClient.connect(port);
    for (let i = 0; i < 20; i++) {
      c.send(`GET /echo/${i} HTTP/1.1\r\nHost: h\r\nAuthorization: ${basic('bob', 'bob-pw')}\r\n\r\n`);
      order.push(`quick ${(await c.readResponse({ timeoutMs: 30_000 })).status}`);
    }
    c.close();
    await slow;
    expect(order).toEqual([...Array<string>(20).fill('quick 200'), 'slow 200']);
  });
});

describe('behind a trusted proxy (--trust-proxy)', () => {
  let server: RunningServer;
  beforeAll(async () => (server = await launch(['--auth', 'bob:bob-pw', '--trust-proxy', '127.0.0.1'])));
  afterAll(async () => server?.stop());

  const get = async (forwardedFor: string, auth: string) =>
    (await exchange(server.port, `GET /echo/x HTTP/1.1\r\nHost: h\r\nX-Forwarded-For: ${forwardedFor}\r\nAuthorization: ${auth}\r\n\r\n`)).status;

  test('failures count against the client the proxy forwards for, not against the proxy', async () => {
    for (let i = 0; i < 10; i++) expect(await get('203.0.113.5', basic('bob', `guess-${i}`))).toBe(401);
    expect(await get('203.0.113.5', basic('bob', 'guess-10'))).toBe(429);
    expect(await get('203.0.113.5', basic('bob', 'bob-pw'))).toBe(429);
    expect(await get('203.0.113.6', basic('bob', 'bob-pw'))).toBe(200); // same proxy, another client
  });
});

describe('bounded memory', () => {
  test('the throttle forgets a client once its window and block are over', () => {
    const t = new FailureThrottle({ maxFailures: 3, windowMs: 1000, blockMs: 5000 });
    for (let i = 0; i < 3; i++) t.failure('a', 0);
    expect(t.retryAfter('a', 10)).toBe(5);
    expect(t.retryAfter('b', 10)).toBe(0);
    expect(t.retryAfter('a', 4999)).toBe(1);
    expect(t.retryAfter('a', 5000)).toBe(0);
    expect(t.size).toBe(0);
  });

  test('the throttle holds at most maxClients entries, sweeping expired ones before it drops live ones', () => {
    const flood = new FailureThrottle({ maxFailures: 2, windowMs: 1000, blockMs: 1000, maxClients: 100 });
    for (let i = 0; i < 1000; i++) flood.failure(`flood-${i}`, 0);
    expect(flood.size).toBeLessThanOrEqual(100);

    const t = new FailureThrottle({ maxFailures: 2, windowMs: 1000, blockMs: 1000, maxClients: 100 });
    for (let i = 0; i < 50; i++) t.failure(`old-${i}`, 0);
    t.failure('blocked', 1500);
    t.failure('blocked', 1500);
    for (let i = 0; i < 59; i++) t.failure(`new-${i}`, 1500); // the 50th finds the table full: the 50 expired go
    expect(t.size).toBe(60);
    expect(t.retryAfter('blocked', 1600)).toBe(1);
  });

  test('IPv6 clients are counted by their /64, IPv4-mapped ones as IPv4', () => {
    expect(clientKey('2001:db8:1:2:aaaa::1')).toBe(clientKey('2001:0db8:0001:0002:bbbb:cccc:dddd:eeee'));
    expect(clientKey('2001:db8:1:2::1')).not.toBe(clientKey('2001:db8:1:3::1'));
    expect(clientKey('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(clientKey('::1')).toBe('0:0:0:0::/64');
  });

  test('verified credentials: least recently used dropped past the cap, none trusted past the TTL', () => {
    const v = new VerifiedCredentials(3, 1000);
    for (const k of ['a', 'b', 'c']) v.add(k, 0);
    expect(v.has('a', 10)).toBe(true); // a is now the most recently used
    v.add('d', 10);
    expect(['a', 'b', 'c', 'd'].map((k) => v.has(k, 20))).toEqual([true, false, true, true]);
    expect(v.has('a', 1000)).toBe(false);
  });
});
