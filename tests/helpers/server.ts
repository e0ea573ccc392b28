/**
 * Starts the real server as a child process, the way a user does, and
 * stops it by its PID. The runtime is Node (compiled `dist/`) unless the
 * jest project set SERVER_RUNTIME=bun (then `bun run app/main.ts`).
 */

import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export type Runtime = 'node' | 'bun';

/** The runtime of the current jest project. */
export function runtime(): Runtime {
  return process.env.SERVER_RUNTIME === 'bun' ? 'bun' : 'node';
}

export interface RunningServer {
  readonly port: number;
  readonly host: string;
  readonly process: ChildProcess;
  /** Everything the server printed to stdout and stderr so far. */
  output(): string;
  /** Sends SIGTERM (SIGKILL after 3 s) and resolves when the process has exited. */
  stop(): Promise<void>;
}

/** The command and arguments that run the server under `rt`. */
export function serverCommand(rt: Runtime, args: string[]): [string, string[]] {
  if (rt === 'bun') return [path.join(ROOT, 'node_modules', '.bin', 'bun'), ['run', path.join(ROOT, 'app', 'main.ts'), ...args]];
  return [process.execPath, [path.join(ROOT, 'dist', 'app', 'main.js'), ...args]];
}

/**
 * Starts the server on 127.0.0.1 and an ephemeral port (unless `args`
 * says otherwise) and resolves once it prints where it listens.
 * @param args extra command-line options, e.g. `['--directory', dir]`.
 * @param opts.defaults add no `--host`/`--port`: the server binds its
 *   defaults (`::`, port 4221), as `./your_program.sh` does.
 * @param opts.wrapper a command that execs the server (so the PID is the
 *   server's), e.g. `['setpriv', '--reuid=65534']` or `['prlimit', '--fsize=1024']`.
 * @throws Error if the server exits or does not listen within 15 s.
 */
export function startServer(
  args: string[] = [],
  rt: Runtime = runtime(),
  opts: { defaults?: boolean; wrapper?: string[] } = {},
): Promise<RunningServer> {
  const fullArgs = [...args];
  if (opts.defaults !== true) {
    if (!fullArgs.includes('--host')) fullArgs.unshift('--host', '127.0.0.1');
    if (!fullArgs.includes('--port')) fullArgs.unshift('--port', '0');
  }
  const argv = [...(opts.wrapper ?? []), ...serverCommand(rt, fullArgs).flat()];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const host = fullArgs.includes('--host') ? fullArgs[fullArgs.indexOf('--host') + 1]! : '::';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start within 15 s:\n${out}`));
    }, 15_000);
    const onData = () => {
      const m = /Listening on http:\/\/localhost:(\d+)/.exec(out);
      if (m === null) return;
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      resolve({
        port: Number(m[1]),
        host,
        process: child,
        output: () => out,
        stop: async () => {
          if (child.exitCode !== null || child.signalCode !== null) return;
          const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.kill('SIGTERM');
          await exited;
          clearTimeout(kill);
        },
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code} before listening:\n${out}`));
    });
  });
}

/**
 * Why a test runs under Node only: Bun 1.3.14's node:net keeps reading a
 * paused socket. `socket.pause()` stops 'data' events but not the reads
 * underneath, so everything the peer sends piles up in the socket's
 * readable buffer (measured: 146 MB buffered while paused, where Node holds
 * 64 KiB and the sender stalls). No work-around from user code was found:
 * the handle's own pause(), with the socket's `_read` kept from resuming
 * it, buffers just the same. Later Bun releases rework read back-pressure
 * (oven-sh/bun#33974, #43570).
 */
export const BUN_READS_WHILE_PAUSED = 'Bun 1.3 keeps reading a paused socket (no read back-pressure)';

/**
 * `test` for a behaviour the server has under Node only, for the `reason`
 * given. The test belongs to the node project; the bun project does not
 * define it (it runs the same file against Bun). The README's "Bun" section
 * lists each such test with its reason.
 */
export function testOnNodeOnly(reason: string): (name: string, fn: () => Promise<void>, timeout?: number) => void {
  void reason; // named at the call site, so the limitation is read where the test is
  if (runtime() === 'node') return (name, fn, timeout) => test(name, fn, timeout);
  return () => undefined;
}
