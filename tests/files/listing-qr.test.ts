// The listing's QR code (issue 10): the URL a phone on the network can
// open, from the request's Host when another machine could use it, else
// from the machine's first LAN IPv4 address; an SVG a strict CSP allows inline.
import type os from 'node:os';
import { firstLanIPv4, lanUrl, qrSvg } from '../../app/ops/qr';

const info = (address: string, family: 'IPv4' | 'IPv6', internal: boolean): os.NetworkInterfaceInfo =>
  ({ address, family, internal, netmask: '', mac: '', cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as os.NetworkInterfaceInfo;
const IFACES = {
  lo: [info('127.0.0.1', 'IPv4', true), info('::1', 'IPv6', true)],
  eth0: [info('fd00::2', 'IPv6', false), info('192.168.1.20', 'IPv4', false)],
  wlan0: [info('10.0.0.7', 'IPv4', false)],
};

test('a Host another machine can use is the URL, port and all (80 left out)', () => {
  expect(lanUrl('files.example:8080', '/files/a%20b/', undefined, 'http', IFACES)).toBe('http://files.example:8080/files/a%20b/');
  expect(lanUrl('192.168.1.99:4221', '/files/', undefined, 'http', IFACES)).toBe('http://192.168.1.99:4221/files/');
  expect(lanUrl('[fd00::9]:4221', '/files/', undefined, 'http', IFACES)).toBe('http://[fd00::9]:4221/files/');
  expect(lanUrl('Files.Example:80', '/files/', undefined, 'http', IFACES)).toBe('http://files.example/files/');
  expect(lanUrl('files.example', '/files/', undefined, 'https', IFACES)).toBe('https://files.example/files/');
});

test('a loopback, missing or malformed Host gives the first LAN IPv4 address with the port asked for', () => {
  for (const host of ['localhost:4221', '127.0.0.1:4221', '[::1]:4221', 'app.localhost:4221']) {
    expect(lanUrl(host, '/files/x/', undefined, 'http', IFACES)).toBe('http://192.168.1.20:4221/files/x/');
  }
  expect(lanUrl(undefined, '/files/', 4221, 'http', IFACES)).toBe('http://192.168.1.20:4221/files/');
  expect(lanUrl('evil"><script>:1', '/files/', 4221, 'http', IFACES)).toBe('http://192.168.1.20:4221/files/');
  expect(lanUrl('localhost:4221', '/files/', undefined, 'http', { lo: IFACES.lo })).toBeUndefined();
  expect(firstLanIPv4(IFACES)).toBe('192.168.1.20');
});

test('the SVG has the URL as its title (escaped), no style attribute nor script, and depends only on the URL', () => {
  const svg = qrSvg('http://192.168.1.20:4221/files/a%20b/');
  expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"[^>]*><title>http:\/\/192.168.1.20:4221\/files\/a%20b\/<\/title>.*<\/svg>$/s);
  expect(qrSvg('http://h/?a=1&b="2"')).toContain('<title>http://h/?a=1&#38;b=&#34;2&#34;</title>');
  expect(svg).not.toMatch(/style=|<script/i);
  expect(qrSvg('http://192.168.1.20:4221/files/a%20b/')).toBe(svg);
  expect(qrSvg('http://192.168.1.20:4221/files/other/')).not.toBe(svg);
  expect(() => qrSvg('x'.repeat(5000))).toThrow();
});
