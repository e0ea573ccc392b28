// Starting with --auth/--auth-file/--auth-writes/--read-only: a bad user
// line stops the server with one error naming the file, the line and the
// reason (Apache MD5 and other weak hashes are refused); the banner says
// who may do what, and warns in one line when anyone on the network could
// change the folder (writes on, no login, an address that is not loopback).
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { bannerLines } from '../../app/ops/banner';
import { ROOT, serverCommand } from '../helpers/server';
import { type Launched, launch, wholeBanner } from '../ops/helpers';
import { removeScratch, scratch } from '../uploads/helpers';
import { bcryptHash } from './helpers';

let dir: string;
let server: Launched | undefined;
beforeAll(() => (dir = scratch('auth-startup-')));
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => removeScratch(dir));

/** Runs the server with `args`, expecting it to refuse to start: [exit code, stderr]. */
function refused(args: string[]): [number | null, string] {
  const [cmd, argv] = serverCommand('node', ['--host', '127.0.0.1', '--port', '0', ...args]);
  const r = spawnSync(cmd, argv, { cwd: ROOT, encoding: 'utf8', timeout: 15_000 });
  return [r.status, r.stderr.trim()];
}

function usersFile(name: string, lines: string[]): string {
  const file = path.join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

test('a refused or malformed htpasswd line stops the server with an error naming the line', () => {
  const good = `alice:${bcryptHash('pw')}`;
  const cases: Array<[string, RegExp]> = [
    ['bob:$apr1$abcdefgh$0123456789abcdefghijk/', /line 3 \(user bob\): Apache MD5 \(\$apr1\$\) hashes are not supported: make the line again with `htpasswd -B`/],
    ['bob:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', /line 3 \(user bob\): unsalted SHA-1 \(\{SHA\}\) hashes are not supported/],
    ['bob:$1$abcdefgh$0123456789abcdefghijkl', /line 3 \(user bob\): MD5 crypt/],
    ['bob:rl2QvB4RDhHTw', /line 3 \(user bob\): DES crypt/],
    ['bob:secret', /line 3 \(user bob\): not a bcrypt or SHA-crypt hash/],
    ['bob:$6$rounds=999999999$salt$' + 'a'.repeat(86), /line 3 \(user bob\): SHA-crypt rounds 999999999 are outside/],
    ['bob:$2y$10$tooshort', /line 3 \(user bob\): a malformed \$2y\$ hash/],
    ['no colon here', /line 3: expected user:hash/],
    [good, /line 3: user alice appears twice/],
  ];
  for (const [i, [line, message]] of cases.entries()) {
    const file = usersFile(`bad-${i}`, [good, '# comment', line]);
    const [code, stderr] = refused(['--auth-file', file]);
    expect([line, code]).toEqual([line, 2]);
    expect(stderr).toContain(`error: --auth-file ${file} line 3`);
    expect(stderr).toMatch(message);
    expect(stderr.split('\n')).toHaveLength(1);
  }
});

test('bad --auth values, --auth-writes alone, a missing or empty file: one clear error each', () => {
  const empty = usersFile('empty', ['# nobody']);
  const cases: Array<[string[], string]> = [
    [['--auth', 'alice'], 'error: --auth needs USER:PASSWORD'],
    [['--auth', 'alice:'], 'error: --auth alice: the password is empty'],
    [['--auth', ':pw'], 'error: --auth: an empty user name'],
    [['--auth', 'a:1', '--auth', 'a:2'], 'error: --auth a: this user is given twice'],
    [['--auth-writes'], 'error: --auth-writes needs --auth or --auth-file'],
    [['--auth-file', path.join(dir, 'missing')], `error: --auth-file ${path.join(dir, 'missing')}: ENOENT`],
    [['--auth-file', empty], `error: --auth-file ${empty}: no user:hash line`],
  ];
  for (const [args, message] of cases) {
    const [code, stderr] = refused(args);
    expect([args, code, stderr.startsWith(message)]).toEqual([args, 2, true]);
  }
});

test('banner: a writable folder with no login on a network address gets a one-line warning', () => {
  const base = { port: 4221, directory: '/srv/share', root: undefined, pids: [1] };
  const warnings = (info: Parameters<typeof bannerLines>[0]) => bannerLines(info, {}).filter((l) => l.includes('warning'));
  expect(warnings({ ...base, address: '0.0.0.0' })).toEqual([
    '  warning: anyone on the network can change the files in /srv/share (no --auth); add --auth-file, --read-only, or --host 127.0.0.1',
  ]);
  expect(warnings({ ...base, address: '::' })).toHaveLength(1);
  expect(warnings({ ...base, address: '192.168.1.20' })).toHaveLength(1);
  for (const quiet of [
    { ...base, address: '127.0.0.1' },
    { ...base, address: '::1' },
    { ...base, address: '::ffff:127.0.0.1' },
    { ...base, address: '::', writable: false },
    { ...base, address: '::', auth: 'all' as const },
    { ...base, address: '::', auth: 'writes' as const },
    { ...base, address: '::', directory: undefined },
  ]) {
    expect(warnings(quiet)).toEqual([]);
  }
  expect(bannerLines({ ...base, address: '::', writable: false, auth: 'all' }, {})).toContain('  /files/ serves /srv/share; read-only (--read-only); every request needs a login');
  expect(bannerLines({ ...base, address: '::', auth: 'writes' }, {})).toContain('  /files/ serves /srv/share; uploads enabled (POST, PUT, DELETE, MKCOL, MOVE); uploads need a login');
});

test('the real banner, bound to every address: warns without a login, not with --auth-writes or --read-only', async () => {
  server = launch(['--port', '0', '-d', dir]);
  expect(await wholeBanner(server)).toContain(`  warning: anyone on the network can change the files in ${dir} (no --auth)`);
  await server.stop();
  server = launch(['--port', '0', '-d', dir, '--auth', 'alice:pw', '--auth-writes']);
  const withLogin = await wholeBanner(server);
  expect(withLogin).toContain('uploads need a login');
  expect(withLogin).not.toContain('warning');
  await server.stop();
  server = launch(['--port', '0', '-d', dir, '--read-only']);
  const readOnly = await wholeBanner(server);
  expect(readOnly).toContain(`/files/ serves ${dir}; read-only (--read-only)`);
  expect(readOnly).not.toContain('warning');
});
