// Property-based fuzzing with fast-check. Valid requests (one to three,
// pipelined) are cut at random points and sent piece by piece, with or
// without random byte mutations:
// - unmutated, the server gives exactly the expected answers however the
//   bytes are cut;
// - mutated, whatever it sends is a sequence of well-formed responses, a
//   protocol error is the last one and says `Connection: close`, it closes
//   within a time bound after our FIN, and a normal request on a new
//   connection still succeeds.
// The same inputs drive the sans-I/O parser: its events never depend on
// how the bytes are cut, and it only ever throws HttpError.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { HttpError } from '../../app/http/errors';
import { type ParseEvent, RequestParser } from '../../app/http/parser';
import { type RunningServer, startServer } from '../helpers/server';
import { request } from '../helpers/wire';
import { type ParsedResponse, parseResponses, responseField } from './response-stream';

/** How long the server may take to answer and close after our FIN, in ms (generous: 2 shared cores). */
const CLOSE_BOUND_MS = 5000;
/** Statuses of errors in the request itself, after which the server must close. */
const PROTOCOL_ERRORS = new Set([400, 408, 413, 414, 417, 431, 505]);
/** Every status the routes and the engine can answer with. */
const KNOWN_STATUSES = new Set([200, 201, 204, 301, 400, 403, 404, 405, 406, 408, 409, 411, 412, 413, 414, 416, 417, 431, 500, 501, 505, 507]);

// ---- the model of a valid request --------------------------------------------

type Kind = 'echo' | 'user-agent' | 'root' | 'post-length' | 'post-chunked';

interface RequestModel {
  kind: Kind;
  word: string;
  fields: [string, string][];
  content: Uint8Array;
  /** Where chunked content is cut into chunks, as fractions of its length. */
  chunkCuts: number[];
  leadingEmptyLine: boolean;
}

const requestModel: fc.Arbitrary<RequestModel> = fc.record({
  kind: fc.constantFrom<Kind>('echo', 'user-agent', 'root', 'post-length', 'post-chunked'),
  word: fc.stringMatching(/^[a-z0-9]{1,12}$/),
  fields: fc.array(fc.tuple(fc.stringMatching(/^X-[A-Za-z0-9-]{1,12}$/), fc.stringMatching(/^[!-~]([ !-~]{0,30}[!-~])?$/)), { maxLength: 4 }),
  content: fc.uint8Array({ maxLength: 300 }),
  chunkCuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 4 }),
  leadingEmptyLine: fc.boolean(),
});

/** Fractions of the whole where the bytes are cut into pieces. */
const cuts = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 8 });

interface Mutation {
  at: number;
  op: 'replace' | 'insert' | 'delete';
  byte: number;
}
const mutations = fc.array(
  fc.record({
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    op: fc.constantFrom<Mutation['op']>('replace', 'insert', 'delete'),
    byte: fc.integer({ min: 0, max: 255 }),
  }),
  { minLength: 1, maxLength: 3 },
);

interface Rendered {
  bytes: Buffer;
  status: number;
  body?: string;
}

let uploadNumber = 0;

/** The bytes of a request and the answer it must get. */
function render(m: RequestModel): Rendered {
  const lead = m.leadingEmptyLine ? '\r\n' : '';
  const extra = m.fields.map(([n, v]) => `${n}: ${v}\r\n`).join('');
  const head = (line: string, more = '') => `${lead}${line}\r\nHost: fuzz.test\r\n${extra}${more}\r\n`;
  const content = Buffer.from(m.content);
  switch (m.kind) {
    case 'echo':
      return { bytes: Buffer.from(head(`GET /echo/${m.word} HTTP/1.1`), 'latin1'), status: 200, body: m.word };
    case 'user-agent':
      return { bytes: Buffer.from(head('GET /user-agent HTTP/1.1', `User-Agent: ua/${m.word}\r\n`), 'latin1'), status: 200, body: `ua/${m.word}` };
    case 'root':
      return { bytes: Buffer.from(head('GET / HTTP/1.1'), 'latin1'), status: 200, body: '' };
    case 'post-length': {
      const h = head(`POST /files/fz-${++uploadNumber}-${m.word} HTTP/1.1`, `Content-Length: ${content.length}\r\n`);
      return { bytes: Buffer.concat([Buffer.from(h, 'latin1'), content]), status: 201 };
    }
    case 'post-chunked': {
      const h = head(`POST /files/fz-${++uploadNumber}-${m.word} HTTP/1.1`, 'Transfer-Encoding: chunked\r\n');
      const parts: Buffer[] = [Buffer.from(h, 'latin1')];
      for (const piece of cutAt(content, m.chunkCuts)) {
        if (piece.length === 0) continue;
        parts.push(Buffer.from(`${piece.length.toString(16)}\r\n`, 'latin1'), piece, Buffer.from('\r\n', 'latin1'));
      }
      parts.push(Buffer.from('0\r\n\r\n', 'latin1'));
      return { bytes: Buffer.concat(parts), status: 201 };
    }
  }
}

/** `bytes` cut at the given fractions of its length (pieces may be empty). */
function cutAt(bytes: Buffer, fractions: number[]): Buffer[] {
  const points = fractions.map((f) => Math.floor(f * bytes.length)).sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    out.push(bytes.subarray(from, p));
    from = p;
  }
  return out;
}

function mutate(bytes: Buffer, ms: Mutation[]): Buffer {
  let b = Buffer.from(bytes);
  for (const m of ms) {
    const i = Math.min(b.length - 1, Math.floor(m.at * b.length));
    if (m.op === 'replace') b[i] = m.byte;
    else if (m.op === 'insert') b = Buffer.concat([b.subarray(0, i), Buffer.from([m.byte]), b.subarray(i)]);
    else b = Buffer.concat([b.subarray(0, i), b.subarray(i + 1)]);
  }
  return b;
}

// ---- over the wire --------------------------------------------------------------

let server: RunningServer;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fuzz-'));
  server = await startServer(['--directory', dir, '--max-body-size', '4096', '--headers-timeout', '2000', '--body-timeout', '2000']);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Sends `pieces` one write at a time, then FIN, and collects everything
 * until the server closes.
 * @returns the bytes received and the ms from our FIN to the server's close.
 */
function exchange(pieces: Buffer[]): Promise<{ received: Buffer; closeMs: number }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    socket.setNoDelay(true);
    const got: Buffer[] = [];
    let finAt = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${CLOSE_BOUND_MS} ms; got ${JSON.stringify(Buffer.concat(got).toString('latin1').slice(0, 300))}`));
    }, CLOSE_BOUND_MS + 2000);
    socket.on('data', (d: Buffer) => got.push(d));
    socket.on('error', () => undefined); // a reset shows as a short or missing answer
    socket.on('close', () => {
      clearTimeout(timer);
      // Closed before we finished sending (an early error answer): no wait at all.
      resolve({ received: Buffer.concat(got), closeMs: finAt === 0 ? 0 : Date.now() - finAt });
    });
    socket.once('connect', async () => {
      for (const p of pieces) {
        if (p.length === 0) continue;
        if (socket.destroyed) return;
        socket.write(p);
        await new Promise((r) => setTimeout(r, 1));
      }
      finAt = Date.now();
      socket.end();
    });
  });
}

async function expectServerAlive(): Promise<void> {
  const res = await request(server.port, 'GET /echo/alive HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(res.body.toString()).toBe('alive');
}

test('valid pipelined requests cut at random points get exactly their answers', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(requestModel, { minLength: 1, maxLength: 3 }), cuts, async (models, cutPoints) => {
      const rendered = models.map(render);
      const { received, closeMs } = await exchange(cutAt(Buffer.concat(rendered.map((r) => r.bytes)), cutPoints));
      const responses = parseResponses(received);
      expect(responses.map((r) => r.status)).toEqual(rendered.map((r) => r.status));
      rendered.forEach((r, i) => {
        if (r.body !== undefined) expect(responses[i]!.body.toString('latin1')).toBe(r.body);
      });
      expect(closeMs).toBeLessThan(CLOSE_BOUND_MS);
    }),
    { numRuns: 120 },
  );
  await expectServerAlive();
}, 60_000);

function checkWellFormed(responses: ParsedResponse[]): void {
  responses.forEach((res, i) => {
    expect(KNOWN_STATUSES).toContain(res.status);
    expect(res.body.toString('latin1')).not.toMatch(/\n\s+at .*:\d+/);
    if (PROTOCOL_ERRORS.has(res.status)) {
      expect(responseField(res, 'connection')).toBe('close');
      expect(i).toBe(responses.length - 1); // nothing answered after a framing error
    }
  });
}

test('mutated requests get well-formed responses or a close, in bounded time, and harm no one', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(requestModel, { minLength: 1, maxLength: 3 }), mutations, cuts, async (models, ms, cutPoints) => {
      const bytes = mutate(Buffer.concat(models.map((m) => render(m).bytes)), ms);
      const { received, closeMs } = await exchange(cutAt(bytes, cutPoints));
      checkWellFormed(parseResponses(received));
      expect(closeMs).toBeLessThan(CLOSE_BOUND_MS);
      await expectServerAlive();
    }),
    { numRuns: 250 },
  );
  expect(server.process.exitCode).toBeNull();
}, 90_000);

// ---- sans-I/O ---------------------------------------------------------------------

type Norm = { head: string } | { data: string } | { end: true } | { error: number };

/** Feeds `pieces` to a fresh parser and lists its events, content merged, up to the first error. */
function parse(pieces: Buffer[]): Norm[] {
  const parser = new RequestParser({ maxBodySize: 4096 });
  const out: Norm[] = [];
  const add = (e: ParseEvent) => {
    const last = out[out.length - 1];
    if (e.type === 'data') {
      if (last !== undefined && 'data' in last) last.data += e.data.toString('hex');
      else out.push({ data: e.data.toString('hex') });
    } else if (e.type === 'end') {
      out.push({ end: true });
    } else {
      const h = e.head;
      const fields = h.fields.names.map((n, i) => `${n}=${h.fields.values[i]}`).join('|');
      out.push({ head: `${h.method} ${h.target} ${h.path}?${h.query} 1.${h.minorVersion} ${h.framing}:${h.contentLength} ${h.keepAlive} ${fields}` });
    }
  };
  try {
    for (const p of pieces) {
      parser.push(p);
      for (let guard = 0; ; guard++) {
        if (guard > 100_000) throw new Error('parser made no progress');
        const e = parser.next();
        if (e === null) break;
        add(e);
      }
    }
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    expect([400, 413, 414, 417, 431, 501, 505]).toContain(e.status);
    out.push({ error: e.status });
  }
  return out;
}

test('parser: events do not depend on how valid or mutated bytes are cut', () => {
  fc.assert(
    fc.property(
      fc.array(requestModel, { minLength: 1, maxLength: 3 }),
      fc.option(mutations, { nil: undefined }),
      cuts,
      (models, ms, cutPoints) => {
        const whole = Buffer.concat(models.map((m) => render(m).bytes));
        const bytes = ms === undefined ? whole : mutate(whole, ms);
        const expected = parse([bytes]);
        expect(parse(cutAt(bytes, cutPoints))).toEqual(expected);
        // One byte at a time is the hardest cut of all.
        expect(parse([...bytes].map((b) => Buffer.from([b])))).toEqual(expected);
        if (ms === undefined) {
          expect(expected.filter((e) => 'head' in e).length).toBe(models.length);
          expect(expected.some((e) => 'error' in e)).toBe(false);
        }
      },
    ),
    { numRuns: 1000 },
  );
});
