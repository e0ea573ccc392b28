// --trust-proxy: the logged client comes from Forwarded (RFC 7239) or
// X-Forwarded-For only when the connection comes from a listed address;
// trusted hops are skipped from the right, so a forged left part is ignored.
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { forwardedFor, parseNode, parseTrustList } from '../../app/ops/trust-proxy';
import { type RunningServer, startServer } from '../helpers/server';
import { removeScratch, scratch, waitFor } from '../uploads/helpers';

function get(port: number, fields: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(`GET /echo/x HTTP/1.1\r\nHost: x\r\n${fields}Connection: close\r\n\r\n`));
    s.on('data', () => undefined);
    s.on('error', reject);
    s.on('close', () => resolve());
  });
}

function clients(log: string): { clientAddress: string; clientPort: number | null }[] {
  if (!existsSync(log)) return [];
  return readFileSync(log, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe('--trust-proxy', () => {
  let dir: string;
  let server: RunningServer | undefined;
  beforeAll(() => (dir = scratch('trust-proxy-')));
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  afterAll(() => removeScratch(dir));

  const requests = [
    'X-Forwarded-For: 198.51.100.7\r\n',
    'Forwarded: for="[2001:db8:cafe::17]:4711";proto=https\r\nX-Forwarded-For: 198.51.100.99\r\n',
    'X-Forwarded-For: 6.6.6.6, 198.51.100.8, 10.1.2.3\r\n', // 6.6.6.6 is what the client claimed; 10.1.2.3 is our second proxy
    'Forwarded: for=192.0.2.60;by=10.0.0.1, for=10.9.9.9\r\n',
    '', // no header: the peer
  ];

  test('from a listed address, the client is the first untrusted hop from the right', async () => {
    const log = path.join(dir, 'trusted.log');
    server = await startServer(['--access-log', log, '--log-format', 'json', '--trust-proxy', '127.0.0.1,10.0.0.0/8']);
    for (const r of requests) await get(server.port, r);
    await waitFor(() => clients(log).length === requests.length, 'every line', 5000);
    expect(clients(log).map((c) => [c.clientAddress, c.clientPort])).toEqual([
      ['198.51.100.7', null],
      ['2001:db8:cafe::17', 4711],
      ['198.51.100.8', null],
      ['192.0.2.60', null],
      ['127.0.0.1', expect.any(Number)],
    ]);
  });

  test('from an address not listed, the headers are ignored', async () => {
    const log = path.join(dir, 'untrusted.log');
    server = await startServer(['--access-log', log, '--log-format', 'json', '--trust-proxy', '192.0.2.1']);
    for (const r of requests) await get(server.port, r);
    await waitFor(() => clients(log).length === requests.length, 'every line', 5000);
    for (const c of clients(log)) expect(c.clientAddress).toBe('127.0.0.1');
  });

  test('a bad entry is refused at start', async () => {
    await expect(startServer(['--trust-proxy', '127.0.0.1,not-an-address'])).rejects.toThrow(/not-an-address is not an IP address/);
  });

  test('Forwarded nodes and the trust list parse as RFC 7239 writes them', () => {
    expect(parseNode('"[2001:db8::1]:80"')).toEqual({ address: '2001:db8::1', port: 80 });
    expect(parseNode('"192.0.2.43:47011"')).toEqual({ address: '192.0.2.43', port: 47011 });
    expect(parseNode('unknown')).toEqual({ address: 'unknown', port: null });
    expect(forwardedFor(['for=a;proto=http, For="b,c"', 'by=x'])).toEqual([
      { address: 'a', port: null },
      { address: 'b,c', port: null },
    ]);
    expect(forwardedFor(['proto=http'])).toBeNull();
    const list = parseTrustList('10.0.0.0/8, ::1');
    expect(list.check('10.200.0.1', 'ipv4')).toBe(true);
    expect(list.check('::1', 'ipv6')).toBe(true);
    expect(list.check('11.0.0.1', 'ipv4')).toBe(false);
    expect(() => parseTrustList('10.0.0.0/33')).toThrow(/not an IP address or a subnet/);
  });
});
