/**
 * Graceful shutdown on SIGINT and SIGTERM (the process model stays out of
 * the engine: this module only calls {@link HttpServer.drain} and
 * {@link HttpServer.close}).
 *
 * First signal: stop accepting, close idle connections, let the exchanges
 * in flight finish (each response with `Connection: close`), exit 0 once
 * the last is done or when the shutdown timeout passes. A second signal
 * forces: every connection is cut. Either way an upload cut short sees its
 * content abort and removes its temporary file; the exit waits for that
 * (at most {@link CLEANUP_MS}) so no partial file stays behind.
 */

import type { HttpServer } from '../http/server.js';

/** Longest wait, in ms, for handlers to clean up after connections are cut. */
export const CLEANUP_MS = 700;

/** Exit status after a forced stop: the shell's 128 + signal number. */
const FORCED_STATUS: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

export interface ShutdownOptions {
  /** Milliseconds the exchanges in flight get after the first signal; then they are cut and the process exits 0. */
  timeoutMs: number;
  /** Where messages go, one line per call (default: stderr). */
  say?: (line: string) => void;
  /** Ends the process (default: `process.exit`). */
  exit?: (status: number) => void;
  /** The signals that start (and, sent again, force) the shutdown; default SIGINT and SIGTERM. */
  signals?: readonly NodeJS.Signals[];
}

/** A shutdown in progress, or ready to start; hooks run before the process exits (flushing logs). */
export interface Shutdown {
  /** Adds work done just before exit (bounded by {@link CLEANUP_MS}). */
  beforeExit(hook: () => Promise<void> | void): void;
  /** Starts the graceful shutdown, or forces it if one is under way (what a signal does). */
  signal(name: string): void;
}

/**
 * Installs the SIGINT/SIGTERM handlers for `http`.
 * @returns the {@link Shutdown}, for hooks to add.
 */
export function installShutdown(http: HttpServer, options: ShutdownOptions): Shutdown {
  const say = options.say ?? ((line: string) => process.stderr.write(`${line}\n`));
  const exit = options.exit ?? ((status: number) => process.exit(status));
  const hooks: (() => Promise<void> | void)[] = [];
  let phase: 'serving' | 'draining' | 'exiting' = 'serving';

  const finish = async (status: number) => {
    if (phase === 'exiting') return;
    phase = 'exiting';
    const bounded = (p: Promise<unknown>) => Promise.race([p, new Promise((r) => setTimeout(r, CLEANUP_MS).unref())]);
    // Uploads whose connection was cut remove their temporary file as their handler fails.
    await bounded(Promise.all([http.handlersSettled(), ...hooks.map(async (h) => h())]).catch(() => undefined));
    exit(status);
  };

  const force = (why: string, status: number) => {
    if (phase === 'exiting') return;
    const cut = [...http.connections].filter((c) => c.inFlight !== null).length;
    say(`${why}: closing ${cut === 0 ? 'every connection' : `${plural(cut, 'exchange')} in flight`} now`);
    void http.close();
    void finish(status);
  };

  const signal = (name: string) => {
    if (phase === 'exiting') return;
    if (phase === 'draining') {
      force(`${name} again`, FORCED_STATUS[name] ?? 1);
      return;
    }
    if (!http.server.listening && http.connections.size === 0) {
      // Not serving yet (a worker told to stop while its siblings failed to start): nothing to drain or announce.
      void finish(0);
      return;
    }
    phase = 'draining';
    const busy = [...http.connections].filter((c) => c.inFlight !== null);
    const what = busy.slice(0, 5).map((c) => `${c.inFlight!.method} ${printable(c.inFlight!.target)} from ${c.peer}`);
    if (busy.length > 5) what.push(`${busy.length - 5} more`);
    say(
      busy.length === 0
        ? `${name}: shutting down; no longer accepting connections`
        : `${name}: shutting down; no longer accepting connections; waiting up to ${options.timeoutMs} ms for ${plural(busy.length, 'exchange')} in flight: ${what.join(', ')}`,
    );
    say('press Ctrl+C again (or send the signal again) to force');
    const timer = setTimeout(() => force(`shutdown timeout (${options.timeoutMs} ms)`, 0), options.timeoutMs);
    timer.unref();
    void http.drain().then(() => {
      clearTimeout(timer);
      void finish(0);
    });
  };

  for (const name of options.signals ?? ['SIGINT', 'SIGTERM']) process.on(name, () => signal(name));
  if (options.signals !== undefined && !options.signals.includes('SIGINT')) process.on('SIGINT', () => undefined); // the primary decides
  return { beforeExit: (hook) => hooks.push(hook), signal };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** A request-target shown on a terminal: control characters escaped, long ones cut. */
function printable(target: string): string {
  const t = target.replace(/[\x00-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return t.length > 80 ? `${t.slice(0, 77)}...` : t;
}
