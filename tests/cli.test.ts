// The command line (app/cli.ts): a bad option or value prints exactly one
// clear line on stderr and exits non-zero, never a stack trace; --help
// lists every option with examples.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, serverCommand } from './helpers/server';

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
  ]) {
    expect(r.stdout).toMatch(new RegExp(`^\\s+(-\\w, )?${option}\\s+\\S`, 'm'));
  }
  expect(r.stdout).toMatch(/default: 4221/);
  expect(r.stdout).toMatch(/^Examples:/m);
  expect(r.stdout).toMatch(/your_program\.sh --directory \S+/);
});

test('-h is --help', async () => {
  const r = await run(['-h']);
  expect(r.code).toBe(0);
  expect(r.stdout).toMatch(/--directory/);
});
