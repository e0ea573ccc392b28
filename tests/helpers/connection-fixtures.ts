/**
 * The handlers of the connection unit tests, by name, and a way to serve
 * one: in this process under Node (the `node` jest project), or in a child
 * process run by Bun (the `bun` project), so the engine's socket handling is
 * tested on both runtimes with the same client code. A handler's state (a
 * counter, a recorded failure) and its controls (opening a gate) are reached
 * through {@link Served}, which talks to the child over its stdin/stdout.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import type net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Request } from '../../app/http/request';
import type { Handler, Response } from '../../app/http/response';
import { type ServerOptions, createHttpServer } from '../../app/http/server';
import { ROOT, runtime } from './server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (body: string): Response => ({ status: 200, headers: { 'Content-Type': 'text/plain' }, body });

/** What a fixture shows the test: its state as JSON, and named controls. */
export interface Fixture {
  handler: Handler<Request>;
  state?: () => Record<string, unknown>;
  controls?: Record<string, () => void>;
}

/** Echoes the path, or fails in the way the path names. */
function echo(): Fixture {
  return {
    handler: (req) => {
      switch (req.path) {
        case '/throw':
          throw new Error('secret detail at /srv/app.js:12');
        case '/reject':
          return Promise.reject(new Error('async failure'));
        case '/undefined':
          return undefined as unknown as Response;
        case '/status-42':
          return { status: 42 };
        case '/no-content-with-body':
          return { status: 204, body: 'must not be sent' };
        case '/bad-header':
          return { status: 200, headers: { 'X-Injected': 'a\r\nSet-Cookie: x=1' }, body: 'x' };
        case '/open-throws':
          return { status: 200, body: { open: () => { throw new Error('cannot open'); } } };
        default:
          return text(req.path);
      }
    },
  };
}

export const FIXTURES = {
  echo,
  /** Answers the query after sleeping that many ms. */
  delayedQuery: (): Fixture => ({
    handler: async (req) => {
      await sleep(Number(req.query));
      return text(req.query);
    },
  }),
  /** Answers the path after 20 ms. */
  delayedPath: (): Fixture => ({
    handler: async (req) => {
      await sleep(20);
      return text(req.path);
    },
  }),
  /** Reads the whole request content and answers it. */
  readBody: (): Fixture => ({ handler: async (req) => text((await req.body.bytes()).toString('latin1')) }),
  /** 403 without reading anything. */
  forbidden: (): Fixture => ({ handler: () => ({ status: 403 }) }),
  /** A 32 MiB response, more than socket buffers hold. */
  big: (): Fixture => {
    const big = Buffer.alloc(32 * 1024 * 1024, 0x62);
    return { handler: () => ({ status: 200, body: big }) };
  },
  /** `/fail`: a stream that fails after 10 of 100 bytes; else `ok`. */
  failingStream: (): Fixture => ({
    handler: (req) => {
      if (req.path !== '/fail') return text('ok');
      return {
        status: 200,
        body: {
          length: 100,
          open: () =>
            new Readable({
              read() {
                this.push(Buffer.alloc(10));
                this.destroy(new Error('disk gone'));
              },
            }),
        },
      };
    },
  }),
  /** Reads the content; records the error if the read fails; answers `late`. */
  recordsReadFailure: (): Fixture => {
    let failure: string | null = null;
    return {
      handler: async (req) => {
        try {
          await req.body.bytes();
        } catch (e) {
          failure = e instanceof Error ? `Error: ${e.message}` : String(e);
        }
        return text('late');
      },
      state: () => ({ failure }),
    };
  },
  /** `/short` declares 10 bytes and streams 3, `/long` declares 3 and streams 10; else the path. */
  lyingLength: (): Fixture => ({
    handler: (req) => {
      if (req.path !== '/short' && req.path !== '/long') return text(req.path);
      const declared = req.path === '/short' ? 10 : 3;
      const actual = req.path === '/short' ? 3 : 10;
      return { status: 200, headers: { 'Content-Type': 'text/plain' }, body: { length: declared, open: () => Readable.from([Buffer.alloc(actual, 0x78)]) } };
    },
  }),
  /** A stream of exactly its declared 6 bytes, in two chunks. */
  exactLength: (): Fixture => ({
    handler: () => ({ status: 200, body: { length: 6, open: () => Readable.from([Buffer.from('abc'), Buffer.from('def')]) } }),
  }),
  /**
   * `/first` keeps its content and answers at once; any other request first
   * reads `/first`'s content late (its stream and the demand hook a read
   * calls), then answers 403 after 50 ms without reading its own.
   */
  lateRead: (): Fixture => {
    let lateRead: (() => void) | null = null;
    return {
      handler: async (req) => {
        if (req.path === '/first') {
          const body = req.body;
          const stream = body.stream();
          lateRead = () => {
            stream.read();
            stream.resume();
            (body as unknown as { onDemand: () => void }).onDemand();
          };
          return text('first');
        }
        lateRead?.();
        await sleep(50);
        return { status: 403, body: 'not reading that\n' };
      },
    };
  },
  /** A 128 KiB response; counts calls. */
  counting: (): Fixture => {
    let calls = 0;
    const body = Buffer.alloc(128 * 1024, 0x63);
    return {
      handler: () => {
        calls++;
        return { status: 200, body };
      },
      state: () => ({ calls, bodyLength: body.length }),
    };
  },
  /** Takes the content stream, reads nothing until `release`, then counts the bytes and answers the count. */
  gatedReader: (): Fixture => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    return {
      handler: async (req) => {
        const stream = req.body.stream();
        await gate; // the handler is busy: nothing is read
        let seen = 0;
        for await (const chunk of stream) seen += (chunk as Buffer).length;
        return text(String(seen));
      },
      controls: { release: () => release() },
    };
  },
} satisfies Record<string, () => Fixture>;

export type FixtureName = keyof typeof FIXTURES;

/** A running fixture server on 127.0.0.1. */
export interface Served {
  readonly port: number;
  /** Messages of the handler failures the server reported (for its log) so far. */
  errors(): Promise<string[]>;
  /** The fixture's state. */
  state(): Promise<Record<string, unknown>>;
  /** Runs one of the fixture's controls. */
  control(name: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Serves fixture `name` with `options` on 127.0.0.1 and an ephemeral port:
 * in this process, or under Bun in a child process when the jest project
 * runs servers under Bun ({@link runtime}).
 */
export function serveFixture(name: FixtureName, options: Partial<ServerOptions> = {}): Promise<Served> {
  return runtime() === 'bun' ? serveInChild(name, options) : serveInProcess(name, options);
}

async function serveInProcess(name: FixtureName, options: Partial<ServerOptions>): Promise<Served> {
  const fixture = FIXTURES[name]();
  const errors: string[] = [];
  const http = createHttpServer(fixture.handler, options, (err) => errors.push(describeError(err)));
  await new Promise<void>((resolve) => http.server.listen(0, '127.0.0.1', resolve));
  return {
    port: (http.server.address() as net.AddressInfo).port,
    errors: async () => [...errors],
    state: async () => fixture.state?.() ?? {},
    control: async (c) => fixture.controls![c]!(),
    close: () => http.close(),
  };
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The child's side: `bun run tests/helpers/connection-fixtures.ts <name> <options JSON>`. */
async function childMain(name: FixtureName, options: Partial<ServerOptions>): Promise<void> {
  const served = await serveInProcess(name, options);
  const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  reply({ port: served.port });
  let pending = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    pending += d;
    let nl: number;
    while ((nl = pending.indexOf('\n')) !== -1) {
      const [command, arg] = JSON.parse(pending.slice(0, nl)) as [string, string?];
      pending = pending.slice(nl + 1);
      void (async () => {
        if (command === 'errors') reply(await served.errors());
        else if (command === 'state') reply(await served.state());
        else if (command === 'control') reply(await served.control(arg!).then(() => null));
      })();
    }
  });
  process.stdin.on('end', () => void served.close().then(() => process.exit(0)));
}

/** Starts the child under Bun; commands go in on stdin, one JSON line out per command. */
function serveInChild(name: FixtureName, options: Partial<ServerOptions>): Promise<Served> {
  const bun = path.join(ROOT, 'node_modules', '.bin', 'bun');
  const child: ChildProcess = spawn(bun, ['run', path.join(ROOT, 'tests', 'helpers', 'connection-fixtures.ts'), name, JSON.stringify(options)], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let errText = '';
  const waiters: ((line: string) => void)[] = [];
  child.stderr!.on('data', (d: Buffer) => (errText += d.toString()));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) !== -1) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      waiters.shift()?.(line);
    }
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const nextLine = () =>
    new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`fixture server under Bun did not answer:\n${errText}`)), 15_000);
      waiters.push((line) => {
        clearTimeout(t);
        resolve(line);
      });
    });
  const ask = async (command: string, arg?: string) => {
    const answer = nextLine();
    child.stdin!.write(`${JSON.stringify([command, arg])}\n`);
    return JSON.parse(await answer) as unknown;
  };
  return nextLine().then((line) => {
    const { port } = JSON.parse(line) as { port: number };
    return {
      port,
      errors: async () => (await ask('errors')) as string[],
      state: async () => (await ask('state')) as Record<string, unknown>,
      control: async (c) => void (await ask('control', c)),
      close: async () => {
        if (child.exitCode !== null || child.signalCode !== null) return;
        child.stdin!.end();
        const kill = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(kill);
      },
    };
  });
}

// Run as the child process.
if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.join(ROOT, 'tests', 'helpers', 'connection-fixtures.ts')) {
  void childMain(process.argv[2] as FixtureName, JSON.parse(process.argv[3] ?? '{}') as Partial<ServerOptions>);
}
