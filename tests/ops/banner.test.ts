// The startup banner: the "Listening on" line alone on stdout (scripts
// wait for it there), then on stderr, since stdout is not a terminal,
// every URL the server can be reached at, what it serves from where, and
// whether uploads are enabled. On a terminal all of it goes to stdout.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { removeScratch, scratch } from '../uploads/helpers';
import { ROOT, serverCommand } from '../helpers/server';
import { type Launched, launch, wholeBanner } from './helpers';

let dir: string;
let site: string;
let server: Launched | undefined;
beforeAll(() => {
  dir = scratch('ops-banner-');
  site = scratch('ops-banner-site-');
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => {
  removeScratch(dir);
  removeScratch(site);
});


test('bound to every address: one stdout line; stderr lists localhost, loopback and every LAN address, files, site, uploads', async () => {
  server = launch(['--port', '0', '-d', dir, '--root', site]);
  const text = await wholeBanner(server);
  const port = server.port();
  expect(server.stdout()).toBe(`Listening on http://localhost:${port} (bound to :: (IPv6 and IPv4)), files from ${dir}, site from ${site}\n`);
  expect(text).toContain(`http://localhost:${port}/`);
  expect(text).toContain(`http://127.0.0.1:${port}/`);
  for (const infos of Object.values(os.networkInterfaces())) {
    for (const i of infos ?? []) {
      if (i.family === 'IPv4') expect(text).toContain(`http://${i.address}:${port}/`);
      else if (!i.address.startsWith('fe80')) expect(text).toContain(`http://[${i.address}]:${port}/`);
    }
  }
  expect(text).toMatch(new RegExp(`/files/ serves ${dir}; uploads enabled`));
  expect(text).toContain(`serves the site in ${site}`);
  expect(text).toContain(`1 process (pid ${server.pid})`);
});

test('bound to IPv4 loopback: only loopback URLs; without --directory uploads are disabled', async () => {
  server = launch(['--host', '127.0.0.1', '--port', '0']);
  const text = await wholeBanner(server);
  const port = server.port();
  const urls = [...text.matchAll(/http:\/\/\S+/g)].map((m) => m[0]);
  expect(urls).toEqual([`http://localhost:${port}/`, `http://127.0.0.1:${port}/`]);
  expect(text).toContain('uploads disabled');
  expect(text).not.toContain('uploads enabled');
});

test('on a terminal the whole banner goes to stdout', () => {
  // `script` runs the server with a pseudo-terminal as stdout; its stderr is
  // thrown away, so what shows came through stdout. `timeout` stops it after 3 s.
  const [cmd, args] = serverCommand('node', ['--host', '127.0.0.1', '--port', '0', '-d', dir]);
  const line = [cmd, ...args].map((a) => `'${a}'`).join(' ');
  const r = spawnSync('script', ['-qec', `timeout -s TERM 3 ${line} 2>/dev/null`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 });
  expect(r.stdout).toMatch(/Listening on http:\/\/localhost:\d+/);
  expect(r.stdout).toContain('uploads enabled');
  expect(r.stdout).toContain('http://127.0.0.1:');
});

/** Runs the server for 3 s with a pseudo-terminal as stdout (stderr dropped) and returns what it printed. */
function onTerminal(args: string[]): string {
  const [cmd, argv] = serverCommand('node', args);
  const line = [cmd, ...argv].map((a) => `'${a}'`).join(' ');
  return spawnSync('script', ['-qec', `timeout -s TERM 3 ${line} 2>/dev/null`, '/dev/null'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000 }).stdout;
}

const lanIPv4 = Object.values(os.networkInterfaces())
  .flat()
  .find((i) => i !== undefined && i.family === 'IPv4' && !i.internal)?.address;

test('on a terminal with --directory, the banner shows a QR code of /files/ at the LAN address; --no-qr and a pipe show none', async () => {
  const out = onTerminal(['--port', '0', '-d', dir]);
  const port = /Listening on http:\/\/localhost:(\d+)/.exec(out)?.[1];
  expect(port).toBeDefined();
  if (lanIPv4 !== undefined) {
    expect(out).toContain(`scan to open http://${lanIPv4}:${port}/files/ on a phone`);
    expect(out.match(/[█▀▄]/g)?.length ?? 0).toBeGreaterThan(100);
  } else {
    expect(out).not.toContain('scan to open'); // no LAN address: nothing a phone could open
  }
  const off = onTerminal(['--port', '0', '-d', dir, '--no-qr']);
  expect(off).toMatch(/Listening on/);
  expect(off).not.toContain('scan to open');
  expect(off).not.toMatch(/[█▀▄]/);
  server = launch(['--port', '0', '-d', dir]);
  const piped = await wholeBanner(server);
  expect(piped).toContain('uploads enabled');
  expect(piped).not.toContain('scan to open');
}, 30_000);
