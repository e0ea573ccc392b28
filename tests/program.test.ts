// ./your_program.sh, as a user (and the CodeCrafters tester) runs it:
// it starts the server, says where it listens, and answers requests.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ROOT } from './helpers/server';
import { RawClient } from './helpers/wire';

test('./your_program.sh --port 0 --host 127.0.0.1 listens, says where, and answers /echo/abc', async () => {
  const child = spawn(path.join(ROOT, 'your_program.sh'), ['--port', '0', '--host', '127.0.0.1'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    // The script may compile first if a source is newer than its last build: allow for it.
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "Listening on" line within 60 s:\n${out}`)), 60_000);
      const onData = () => {
        const m = /Listening on http:\/\/localhost:(\d+)/.exec(out);
        if (m === null) return;
        clearTimeout(timer);
        resolve(Number(m[1]));
      };
      child.stdout.on('data', onData);
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`your_program.sh exited with ${code}:\n${out}`));
      });
    });
    expect(port).toBeGreaterThan(0);
    const c = await RawClient.connect(port);
    c.send('GET /echo/abc HTTP/1.1\r\nHost: localhost\r\n\r\n');
    const res = await c.readResponse();
    expect(res.statusLine).toBe('HTTP/1.1 200 OK');
    expect(res.header('Content-Type')).toBe('text/plain');
    expect(res.header('Content-Length')).toBe('3');
    expect(res.body.toString()).toBe('abc');
    c.close();
  } finally {
    // `exec node` in the script: the PID we spawned is the server itself.
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(kill);
  }
}, 90_000);
