/**
 * `--workers N`: N processes serve one port. The first process (the
 * primary) serves nothing itself: it starts the workers, prints the
 * banner once they all listen, replaces a worker that dies (waiting
 * longer after each quick death), and on SIGINT/SIGTERM asks every worker
 * to stop and exits when they all have.
 *
 * How the port is shared depends on the runtime:
 * - Node: `node:cluster`. The primary owns the listening socket and hands
 *   connections to the workers in turn (round-robin, the default on
 *   Linux); a worker's `listen` asks the primary for it.
 * - Bun 1.3: its `node:cluster` starts workers, but a `node:net` server
 *   in a worker fails to listen on a fixed port ("Failed to listen"), so
 *   the workers are plain `child_process.fork` children that each bind
 *   the port with `reusePort: true` (SO_REUSEPORT, Linux): the kernel
 *   spreads new connections over them. With `--port 0` the first worker
 *   picks the port and the others (and replacements) bind that one.
 *
 * A worker is the same program, run with `HTTP_SERVER_WORKER=1` in its
 * environment and the same arguments; it reports over the IPC channel
 * when it listens, or the one line explaining why it cannot.
 *
 * Shutdown: the primary forwards SIGTERM (a second time when asked twice);
 * each worker drains on it (`app/ops/shutdown.ts`, installed by `main.ts`),
 * and drains too when the primary's channel closes (the primary was
 * killed); the primary kills what is left after the grace period.
 * Access-log lines from all workers land whole in one file: each worker
 * appends whole lines per `write` to a file opened with O_APPEND.
 */

import { type ChildProcess, fork } from 'node:child_process';
import cluster from 'node:cluster';

/** Environment variable set to `1` in a worker process. */
const WORKER_ENV = 'HTTP_SERVER_WORKER';
/** Environment variable carrying the port a worker must bind (Bun workers only). */
const PORT_ENV = 'HTTP_SERVER_WORKER_PORT';

/** First pause in milliseconds before replacing a worker that died. */
export const FIRST_BACKOFF_MS = 100;
/** Longest pause in milliseconds before replacing a worker. */
export const MAX_BACKOFF_MS = 10_000;
/** A worker that served this long (ms) before dying is replaced after {@link FIRST_BACKOFF_MS} again. */
export const STABLE_MS = 10_000;
/** Milliseconds the primary waits for workers to stop before killing them (SIGKILL), unless told otherwise. */
export const STOP_GRACE_MS = 10_000;

/** What a worker tells the primary. */
export type WorkerMessage =
  /** It listens: on `port` (the real one), bound to `address`. */
  | { readonly kind: 'listening'; readonly port: number; readonly address: string }
  /** It cannot serve, for the reason in `line` (printed once by the primary), and exits 1. */
  | { readonly kind: 'fatal'; readonly line: string };

const TAG = 'http-server-worker';
const isBun = process.versions.bun !== undefined;

/** True in a worker process started by {@link runPrimary}. */
export function isWorker(): boolean {
  return process.env[WORKER_ENV] === '1';
}

/**
 * How a worker binds: under Bun, `reusePort` and the port the primary
 * chose (when it has one); under Node, as a single process does (the
 * cluster shares the primary's socket).
 * @param port the port of the command line.
 */
export function workerListenOptions(port: number): { port: number; reusePort?: boolean } {
  if (!isBun) return { port };
  const chosen = process.env[PORT_ENV];
  return { port: chosen === undefined ? port : Number(chosen), reusePort: true };
}

/** Sends `msg` to the primary, then calls `done` (once it is on its way). */
export function tellPrimary(msg: WorkerMessage, done: () => void = () => undefined): void {
  if (process.send === undefined) return done();
  process.send({ [TAG]: msg }, undefined, {}, () => done());
}

/** A worker as the primary sees it, whatever started it. */
interface Worker {
  readonly pid: number;
  kill(signal: NodeJS.Signals): void;
}

/** One place a worker serves in; its worker is replaced when it dies. */
interface Slot {
  worker: Worker | undefined;
  /** When its worker started (ms since the epoch). */
  started: number;
  listening: boolean;
  /** The pause before the last replacement (ms); 0 before any. */
  backoff: number;
  respawn: NodeJS.Timeout | undefined;
}

/** What {@link runPrimary} needs. */
export interface PrimaryOptions {
  /** How many workers. */
  readonly workers: number;
  /** The port of the command line (0: any free port). */
  readonly port: number;
  /** Called once, when every worker listens: the port, the address bound, the workers' PIDs. */
  readonly onReady: (port: number, address: string, pids: number[]) => void;
  /** Milliseconds workers get to drain before they are killed; {@link STOP_GRACE_MS} when not given. */
  readonly graceMs?: number;
  /** Called on SIGHUP before it is passed on to every worker (e.g. to start a rotated log file). */
  readonly onHangup?: () => void;
}

/**
 * Runs this process as the primary: starts `options.workers` workers
 * (this same program), keeps that many running, and stops them on
 * SIGINT/SIGTERM (then exits 0); SIGHUP is passed on to every worker. A worker that cannot listen before all
 * are up stops everything: its line is printed and the exit status is 1.
 * Reports on stderr each worker that dies and when it is replaced.
 */
export function runPrimary(options: PrimaryOptions): void {
  const slots: Slot[] = Array.from({ length: options.workers }, () => ({
    worker: undefined,
    started: 0,
    listening: false,
    backoff: 0,
    respawn: undefined,
  }));
  let port: number | undefined; // the real one, once a worker listens
  let ready = false;
  let stopping = false;
  let fatal: string | undefined;
  let exitCode = 0;

  const alive = () => slots.filter((s) => s.worker !== undefined);

  const stopAll = (code: number) => {
    exitCode = Math.max(exitCode, code);
    if (stopping) {
      // Asked twice: each worker's second SIGTERM cuts its exchanges (and cleans up uploads) at once.
      for (const s of alive()) s.worker!.kill('SIGTERM');
      return;
    }
    stopping = true;
    for (const s of slots) clearTimeout(s.respawn);
    if (alive().length === 0) process.exit(exitCode);
    for (const s of alive()) s.worker!.kill('SIGTERM');
    setTimeout(() => {
      for (const s of alive()) s.worker!.kill('SIGKILL');
    }, options.graceMs ?? STOP_GRACE_MS).unref();
  };

  const onMessage = (slot: Slot, worker: Worker, raw: unknown) => {
    const msg = (raw as Record<string, WorkerMessage> | null)?.[TAG];
    if (msg === undefined || slot.worker !== worker) return;
    if (msg.kind === 'fatal') {
      fatal ??= msg.line;
      return;
    }
    slot.listening = true;
    if (ready) {
      console.error(`worker ${worker.pid} is serving`);
      return;
    }
    if (port === undefined) {
      port = msg.port;
      // Bun: the first worker chose the port; the others bind it too.
      if (isBun) for (const s of slots) if (s.worker === undefined) start(s);
    }
    if (slots.every((s) => s.listening)) {
      ready = true;
      options.onReady(port, msg.address, slots.map((s) => s.worker!.pid));
    }
  };

  const onExit = (slot: Slot, worker: Worker, code: number | null, signal: NodeJS.Signals | null) => {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.listening = false;
    if (stopping) {
      if (alive().length === 0) process.exit(exitCode);
      return;
    }
    const how = signal !== null ? `was killed by ${signal}` : `exited with status ${code}`;
    if (!ready) {
      // Not serving yet: a worker that cannot start would only fail again.
      console.error(fatal ?? `error: worker ${worker.pid} ${how} before it listened`);
      stopAll(1);
      return;
    }
    const lived = Date.now() - slot.started;
    slot.backoff = lived >= STABLE_MS || slot.backoff === 0 ? FIRST_BACKOFF_MS : Math.min(MAX_BACKOFF_MS, slot.backoff * 2);
    console.error(`worker ${worker.pid} ${how}; starting another in ${slot.backoff} ms`);
    slot.respawn = setTimeout(() => start(slot), slot.backoff);
  };

  const start = (slot: Slot) => {
    slot.respawn = undefined;
    slot.started = Date.now();
    slot.listening = false;
    const env: Record<string, string> = { [WORKER_ENV]: '1' };
    let worker: Worker;
    if (isBun) {
      if (port !== undefined) env[PORT_ENV] = String(port);
      const child: ChildProcess = fork(process.argv[1]!, process.argv.slice(2), { env: { ...process.env, ...env } });
      worker = { pid: child.pid ?? 0, kill: (sig) => child.kill(sig) };
      child.on('message', (m) => onMessage(slot, worker, m));
      child.on('exit', (code, signal) => onExit(slot, worker, code, signal));
      child.on('error', () => undefined); // a failed spawn also ends in 'exit'
    } else {
      const w = cluster.fork(env);
      worker = { pid: w.process.pid ?? 0, kill: (sig) => w.process.kill(sig) };
      w.on('message', (m) => onMessage(slot, worker, m));
      w.on('exit', (code, signal) => onExit(slot, worker, code, signal as NodeJS.Signals | null));
      w.on('error', () => undefined);
    }
    slot.worker = worker;
  };

  process.on('SIGINT', () => stopAll(0));
  process.on('SIGTERM', () => stopAll(0));
  // logrotate signals the primary (the PID people know): each worker reopens its own files.
  process.on('SIGHUP', () => {
    try {
      options.onHangup?.();
    } catch (e) {
      console.error(`warning: on SIGHUP: ${(e as Error).message}`);
    }
    for (const s of alive()) s.worker!.kill('SIGHUP');
  });
  // Bun binds per worker, so with port 0 the first one picks the port before the others start.
  if (isBun && options.port === 0) start(slots[0]!);
  else for (const s of slots) start(s);
}
