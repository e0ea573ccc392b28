// The command line (app/cli.ts): a bad option or value prints exactly one
// clear line on stderr and exits non-zero, never a stack trace; --help
// lists every option with examples.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, serverCommand, startServer } from './helpers/server';
import { request } from './helpers/wire';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the server (Node, dist/) with `args`; kills it if it is still running after 5 s (it should have exited). */
function run(args: string[]): Promise<Run> {
  const [cmd, cmdArgs] = serverCommand('node', args);
  const child = spawn(cmd, cmdArgs, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => {
    stderr += '\n[still running after 5 s: killed]';
    child.kill('SIGKILL');
  }, 5000);
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

let tmp: string;
let aFile: string;
beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cli-'));
  aFile = path.join(tmp, 'a-file');
  fs.writeFileSync(aFile, 'x');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Bad directories are given with a free port and loopback so that a server
// that wrongly started would not take port 4221 (it is killed after 5 s).
const SAFE = ['--port', '0', '--host', '127.0.0.1'];

test.each<[string, () => string[], RegExp]>([
  ['--port 70000', () => ['--port', '70000'], /--port.*70000/],
  ['--port abc', () => ['--port', 'abc'], /--port.*not a number/],
  ['--port -1', () => ['--port', '-1'], /--port.*-1/],
  ['--port 1.5', () => ['--port', '1.5'], /--port.*1\.5/],
  ['--port with no value', () => ['--port'], /port/],
  ['--directory /nonexistent', () => ['--directory', '/nonexistent', ...SAFE], /--directory \/nonexistent: no such directory/],
  ['--directory <a file>', () => ['--directory', aFile, ...SAFE], /--directory .*a-file: not a directory/],
  ['--directory with no value', () => ['--directory'], /directory/],
  ['an unknown option', () => ['--bogus', ...SAFE], /[Uu]nknown argument: bogus/],
  ['--max-body-size -5', () => ['--max-body-size', '-5', ...SAFE], /--max-body-size.*-5/],
  ['-p 70000 (short for --port)', () => ['-p', '70000'], /--port.*70000/],
  ['-d /nonexistent (short for --directory)', () => ['-d', '/nonexistent', ...SAFE], /--directory \/nonexistent: no such directory/],
  ['--workers 0', () => ['--workers', '0', ...SAFE], /--workers must be auto or a whole number from 1 to 256, got 0/],
  ['--workers many', () => ['--workers', 'many', ...SAFE], /--workers .*got many/],
  ['--workers 2.5', () => ['--workers', '2.5', ...SAFE], /--workers .*got 2\.5/],
  ['--workers 1000', () => ['--workers', '1000', ...SAFE], /--workers .*got 1000/],
  ['--workers with no value', () => ['--workers'], /workers/],
])('%s: exit code non-zero, one clear line on stderr, no stack trace', async (_what, args, message) => {
  const r = await run(args());
  expect(r.stderr).not.toContain('still running');
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBeNull();
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(message);
  expect(lines[0]).toMatch(/^error: /);
  expect(r.stderr + r.stdout).not.toContain('    at ');
  expect(r.stdout).toBe('');
});

test('--help lists every option with its description, and examples; exit 0', async () => {
  const r = await run(['--help']);
  expect(r.code).toBe(0);
  expect(r.stderr).toBe('');
  for (const option of [
    '--directory', '--root', '--dotfiles', '--port', '--host', '--max-target-length', '--max-header-size',
    '--max-header-count', '--max-body-size', '--headers-timeout', '--keep-alive-timeout', '--body-timeout', '--help',
    '--workers',
  ]) {
    expect(r.stdout).toMatch(new RegExp(`^\\s+(-\\w, )?${option}\\s+\\S`, 'm'));
  }
  expect(r.stdout).toMatch(/^\s+-p, --port\s/m);
  expect(r.stdout).toMatch(/^\s+-d, --directory\s/m);
  expect(r.stdout).toMatch(/--workers\s.*auto/);
  expect(r.stdout).toMatch(/default: 4221/);
  expect(r.stdout).toMatch(/^Examples:/m);
  expect(r.stdout).toMatch(/your_program\.sh --directory \S+/);
});

test('-h is --help', async () => {
  const r = await run(['-h']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/--directory/);
});

test('-p and -d are --port and --directory: the server listens there and serves the folder', async () => {
  fs.writeFileSync(path.join(tmp, 'hello.txt'), 'hello from -d');
  const s = await startServer(['--host', '127.0.0.1', '-p', '0', '-d', tmp], 'node', { defaults: true });
  try {
    expect(s.output()).toContain(`files from ${tmp}`);
    const res = await request(s.port, 'GET /files/hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hello from -d');
  } finally {
    await s.stop();
  }
});

test('-p picks the port: a busy one is refused with its number', async () => {
  const first = await startServer(['--port', '0']);
  try {
    const r = await run(['-p', String(first.port), '--host', '127.0.0.1']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe(`error: cannot listen on port ${first.port}: EADDRINUSE (another program is using it on 127.0.0.1)`);
  } finally {
    await first.stop();
  }
});
