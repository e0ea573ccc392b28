// A well-known port (1-1023) starts with a warning; when binding it fails
// for lack of privilege the server says so in one line and exits 1, with
// one process or with workers, under Node and Bun.
import { request } from '../helpers/wire';
import type { Runtime } from '../helpers/server';
import { type Launched, launch, listening } from './helpers';

jest.setTimeout(40_000);

// Root without CAP_NET_BIND_SERVICE (dropped from the bounding and
// inheritable sets, so exec cannot regain it) may not bind ports below
// net.ipv4.ip_unprivileged_port_start (1024 here).
const NO_BIND_CAP = ['setpriv', '--inh-caps=-net_bind_service', '--bounding-set=-net_bind_service'];

let server: Launched | undefined;
afterEach(async () => {
  await server?.stop();
  server = undefined;
});

test('a well-known port starts with a warning on stderr, and serves', async () => {
  server = launch(['--host', '127.0.0.1', '-p', '1023']);
  const port = await listening(server);
  expect(port).toBe(1023);
  expect(server.stderr()).toMatch(/^warning: port 1023 is a well-known port \(1-1023\); binding it needs root or CAP_NET_BIND_SERVICE$/m);
  expect((await request(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')).status).toBe(200);
});

test('a port above 1023 starts without that warning', async () => {
  server = launch(['--host', '127.0.0.1', '-p', '0']);
  await listening(server);
  expect(server.stderr()).not.toContain('well-known');
});

describe.each<[Runtime, string]>([
  ['node', '1'],
  ['node', '2'],
  ['bun', '1'],
  ['bun', '2'],
])('under %s with --workers %s', (rt, workers) => {
  test('binding a well-known port without the privilege: one line, exit 1', async () => {
    server = launch(['--host', '127.0.0.1', '-p', '1022', '--workers', workers], rt, NO_BIND_CAP);
    const how = await server.exited;
    expect(how).toBe(1);
    const lines = server.stderr().split('\n').filter((l) => l.trim() !== '');
    expect(lines).toEqual([
      'warning: port 1022 is a well-known port (1-1023); binding it needs root or CAP_NET_BIND_SERVICE',
      'error: cannot listen on port 1022: EACCES (permission denied: a well-known port needs root or CAP_NET_BIND_SERVICE)',
    ]);
    expect(server.stdout()).toBe('');
  });
});
