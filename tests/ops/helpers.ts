/**
 * Helpers of the process tests: a launcher that keeps stdout and stderr
 * apart (the banner's first line goes to one, the rest to the other),
 * waiting for lines, and looking at processes through /proc.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ROOT, type Runtime, serverCommand } from '../helpers/server';

export interface Launched {
  readonly process: ChildProcess;
  readonly pid: number;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or signal name) once the process has exited. */
  readonly exited: Promise<number | string>;
  /** The port of the "Listening on" line; throws if none was printed. */
  port(): number;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
  stop(graceMs?: number): Promise<number | string>;
}

/** Starts the server under `rt` with exactly `args` (add `--host`/`--port` yourself), optionally under a wrapper command. */
export function launch(args: string[], rt: Runtime = 'node', wrapper: string[] = []): Launched {
  const argv = [...wrapper, ...serverCommand(rt, args).flat()];
  const child = spawn(argv[0]!, argv.slice(1), { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const self: Launched = {
    process: child,
    pid: child.pid!,
    stdout: () => out,
    stderr: () => err,
    exited,
    port: () => {
      const m = /Listening on http:\/\/localhost:(\d+)/.exec(out);
      if (m === null) throw new Error(`no "Listening on" line:\n${out}\n${err}`);
      return Number(m[1]);
    },
    stop: async (graceMs = 5000) => {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.kill('SIGTERM');
      const how = await exited;
      clearTimeout(kill);
      return how;
    },
  };
  return self;
}

/** Polls `cond` every 25 ms until it returns a value other than `undefined`/`false`; throws after `timeoutMs`. */
export async function until<T>(cond: () => T | undefined | false, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = cond();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Waits for the "Listening on" line (or the process's exit, which is an error). */
export async function listening(s: Launched, timeoutMs = 20_000): Promise<number> {
  let gone = false;
  void s.exited.then(() => (gone = true));
  await until(() => /Listening on http:\/\/localhost:\d+/.test(s.stdout()) || gone, 'the server to listen', timeoutMs);
  return s.port();
}

/** The parent PID of `pid`, or `undefined` when no such process runs. */
export function parentOf(pid: number): number | undefined {
  try {
    const m = /^PPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m === null ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** True while process `pid` exists and is not a zombie. */
export function running(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** The worker PIDs the banner lists (`... worker processes (pids 1, 2); ...`). */
export function bannerPids(text: string): number[] {
  const m = /worker processes \(pids ([\d, ]+)\)/.exec(text);
  return m === null ? [] : m[1]!.split(', ').map(Number);
}

/** Waits for the "Listening on" line and the rest of the banner (on stderr, a pipe of its own); returns stderr then. */
export async function wholeBanner(s: Launched): Promise<string> {
  await listening(s);
  return until(() => (/Ctrl-C stops/.test(s.stderr()) ? s.stderr() : undefined), 'the whole banner');
}
