// RequestParser unit tests: byte strings in, events out (RFC 9112). The
// same bytes must give the same events however they are cut into pieces.
import { HttpError } from '../../app/http/errors';
import { type ParseEvent, type ParserLimits, RequestParser } from '../../app/http/parser';

/** An event in a comparable form: heads as plain data, content merged across data events. */
type Norm =
  | { head: Record<string, unknown> }
  | { data: string } // hex, so binary differences show
  | { end: true }
  | { error: number };

function normHead(e: Extract<ParseEvent, { type: 'head' }>): Record<string, unknown> {
  const h = e.head;
  return {
    method: h.method,
    target: h.target,
    targetForm: h.targetForm,
    path: h.path,
    query: h.query,
    minorVersion: h.minorVersion,
    fields: h.fields.names.map((n, i) => [n, h.fields.values[i]]),
    framing: h.framing,
    contentLength: h.contentLength,
    keepAlive: h.keepAlive,
    expectContinue: h.expectContinue,
  };
}

/** Pushes `pieces` one by one, draining events after each; stops at the first error. */
function parse(pieces: Buffer[], limits: Partial<ParserLimits> = {}): Norm[] {
  const p = new RequestParser(limits);
  const out: Norm[] = [];
  let pendingData: Buffer[] = [];
  const flushData = () => {
    if (pendingData.length > 0) out.push({ data: Buffer.concat(pendingData).toString('hex') });
    pendingData = [];
  };
  try {
    for (const piece of pieces) {
      p.push(piece);
      for (let ev = p.next(); ev !== null; ev = p.next()) {
        if (ev.type === 'data') {
          expect(ev.data.length).toBeGreaterThan(0);
          pendingData.push(Buffer.from(ev.data)); // copy: the parser may hand out views
          continue;
        }
        flushData();
        out.push(ev.type === 'head' ? { head: normHead(ev) } : { end: true });
      }
    }
  } catch (e) {
    if (!(e instanceof HttpError)) throw e;
    flushData();
    out.push({ error: e.status });
    expect(p.next()).toBeNull(); // dead after an error
  }
  flushData();
  return out;
}

const whole = (raw: Buffer | string, limits?: Partial<ParserLimits>) => parse([Buffer.from(raw as string, 'latin1')], limits);
const bytes = (s: string) => Buffer.from(s, 'latin1');

function splitsInTwo(raw: Buffer): Buffer[][] {
  return Array.from({ length: raw.length + 1 }, (_, i) => [raw.subarray(0, i), raw.subarray(i)]);
}
function oneByteAtATime(raw: Buffer): Buffer[] {
  return Array.from(raw, (b) => Buffer.from([b]));
}

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
const GET = 'GET /echo/abc?x=1 HTTP/1.1\r\nHost: localhost:4221\r\nUser-Agent: curl/8.5.0\r\nAccept: */*\r\n\r\n';
const POST_BINARY = Buffer.concat([
  bytes(`POST /files/f HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: ${ALL_BYTES.length + 4}\r\n\r\n`),
  ALL_BYTES,
  bytes('\r\n\r\n'),
]);
const CHUNKED =
  'POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n' +
  '5;ext=1;q="a \\"b\\""\r\nhello\r\n' +
  '1 ; lone\r\n \r\n' +
  'A\r\n0123456789\r\n' +
  '0\r\nX-Trailer: t1\r\nX-Other: t2\r\n\r\n';
const PIPELINE = Buffer.concat([bytes(GET), POST_BINARY, bytes(CHUNKED), bytes('GET / HTTP/1.0\r\n\r\n')]);

describe('split points: the same events however the bytes are cut', () => {
  test.each([
    ['a GET with fields', bytes(GET)],
    ['a POST with a binary Content-Length body', POST_BINARY],
    ['a chunked POST with extensions and trailers', bytes(CHUNKED)],
    ['four pipelined requests', PIPELINE],
  ])('%s: every split in two, and one byte at a time', (_what, raw) => {
    const expected = whole(raw);
    expect(expected.some((e) => 'error' in e)).toBe(false);
    for (const pieces of splitsInTwo(raw)) expect(parse(pieces)).toEqual(expected);
    expect(parse(oneByteAtATime(raw))).toEqual(expected);
  });

  test('every split in three of a chunked request', () => {
    const raw = bytes(CHUNKED);
    const expected = whole(raw);
    for (let i = 0; i <= raw.length; i++) {
      for (let j = i; j <= raw.length; j++) {
        expect(parse([raw.subarray(0, i), raw.subarray(i, j), raw.subarray(j)])).toEqual(expected);
      }
    }
  });

  test.each([
    ['a bare LF', 'GET / HTTP/1.1\r\nHost: x\nAccept: */*\r\n\r\n', 400],
    ['a bad chunk-size', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\nzz\r\n', 400],
    ['a missing CRLF after chunk-data', 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n', 400],
    ['HTTP/2.0 after a good request', `${GET}GET / HTTP/2.0\r\n\r\n`, 505],
  ])('%s: the same events and the same error at every split', (_what, raw, status) => {
    const expected = whole(raw);
    expect(expected[expected.length - 1]).toEqual({ error: status });
    for (const pieces of splitsInTwo(bytes(raw))) expect(parse(pieces)).toEqual(expected);
    expect(parse(oneByteAtATime(bytes(raw)))).toEqual(expected);
  });
});

describe('requests and their content', () => {
  test('a GET: method, target, path, query, version, fields lower-cased in order, values trimmed', () => {
    const [ev, ...rest] = whole('GET /echo/abc?x=1&y HTTP/1.1\r\nHost: localhost:4221\r\nUSER-agent: \t curl/8 \t\r\n\r\n');
    expect(rest).toEqual([]);
    expect(ev).toEqual({
      head: {
        method: 'GET',
        target: '/echo/abc?x=1&y',
        targetForm: 'origin',
        path: '/echo/abc',
        query: 'x=1&y',
        minorVersion: 1,
        fields: [['host', 'localhost:4221'], ['user-agent', 'curl/8']],
        framing: 'none',
        contentLength: 0,
        keepAlive: true,
        expectContinue: false,
      },
    });
  });

  test('pipelined requests in one push come out in order, each body with its own end', () => {
    const events = whole(PIPELINE);
    const kinds = events.map((e) => ('head' in e ? `head ${e.head.method} ${e.head.target}` : 'data' in e ? 'data' : 'end' in e ? 'end' : 'error'));
    expect(kinds).toEqual(['head GET /echo/abc?x=1', 'head POST /files/f', 'data', 'end', 'head POST /up', 'data', 'end', 'head GET /']);
  });

  test('a binary Content-Length body arrives byte-exact, CRLFs and all', () => {
    const events = whole(POST_BINARY);
    expect(events[1]).toEqual({ data: Buffer.concat([ALL_BYTES, bytes('\r\n\r\n')]).toString('hex') });
    expect(events[2]).toEqual({ end: true });
  });

  test('Content-Length: 0 is complete at its head; no data, no end event', () => {
    const events = whole('POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n');
    expect(events.map((e) => Object.keys(e)[0])).toEqual(['head', 'head']);
  });

  test('a chunked body is de-chunked; extensions and trailer fields are checked and dropped', () => {
    const events = whole(CHUNKED);
    expect(events).toHaveLength(3);
    const head = (events[0] as { head: Record<string, unknown> }).head;
    expect(head.framing).toBe('chunked');
    expect(head.fields).not.toContainEqual(['x-trailer', 't1']);
    expect(events[1]).toEqual({ data: bytes('hello 0123456789').toString('hex') });
    expect(events[2]).toEqual({ end: true });
  });

  test('chunk sizes are hex, any case, leading zeros allowed', () => {
    const events = whole('POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0000a\r\n0123456789\r\nF\r\n' + 'f'.repeat(15) + '\r\n0\r\n\r\n');
    expect(events[1]).toEqual({ data: bytes('0123456789' + 'f'.repeat(15)).toString('hex') });
  });

  test('repeated identical Content-Length values are folded to one', () => {
    const events = whole('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3, 3\r\nContent-Length: 3\r\n\r\nabc');
    expect(events[1]).toEqual({ data: bytes('abc').toString('hex') });
  });

  test.each([
    ['HTTP/1.1 default', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n', true],
    ['HTTP/1.1 Connection: close', 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', false],
    ['HTTP/1.1 Connection: Keep-Alive, CLOSE', 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Keep-Alive, CLOSE\r\n\r\n', false],
    ['HTTP/1.0 default', 'GET / HTTP/1.0\r\n\r\n', false],
    ['HTTP/1.0 Connection: keep-alive', 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', true],
  ])('keepAlive: %s → %s', (_what, raw, keepAlive) => {
    expect((whole(raw)[0] as { head: Record<string, unknown> }).head.keepAlive).toBe(keepAlive);
  });

  test('absolute-form and asterisk-form targets (RFC 9112 §3.2)', () => {
    const abs = (whole('GET http://localhost:4221/echo/x?q HTTP/1.1\r\nHost: localhost:4221\r\n\r\n')[0] as { head: Record<string, unknown> }).head;
    expect([abs.targetForm, abs.path, abs.query]).toEqual(['absolute', '/echo/x', 'q']);
    const star = (whole('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n')[0] as { head: Record<string, unknown> }).head;
    expect([star.targetForm, star.path]).toEqual(['asterisk', '*']);
  });

  test('empty lines before a request-line are skipped (RFC 9112 §2.2)', () => {
    expect(whole('\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n')).toHaveLength(1);
  });

  test('Expect: 100-continue is reported', () => {
    const head = (whole('POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n')[0] as { head: Record<string, unknown> }).head;
    expect(head.expectContinue).toBe(true);
  });
});

describe('errors: the status a malformed request is answered with', () => {
  const small: Partial<ParserLimits> = { maxTargetLength: 64, maxHeaderSize: 256, maxHeaderCount: 5, maxBodySize: 10 };
  test.each([
    { what: 'bare LF ending the request-line', raw: 'GET / HTTP/1.1\nHost: x\r\n\r\n', status: 400, limits: {} },
    { what: 'bare CR inside a field value', raw: 'GET / HTTP/1.1\r\nHost: x\r\nA: b\rc\r\n\r\n', status: 400, limits: {} },
    { what: 'NUL in a field value', raw: 'GET / HTTP/1.1\r\nHost: x\r\nA: b\0c\r\n\r\n', status: 400, limits: {} },
    { what: 'whitespace between field-name and colon', raw: 'GET / HTTP/1.1\r\nHost : x\r\n\r\n', status: 400, limits: {} },
    { what: 'obs-fold', raw: 'GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n c\r\n\r\n', status: 400, limits: {} },
    { what: 'a field line without a colon', raw: 'GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n', status: 400, limits: {} },
    { what: 'a field-name that is not a token', raw: 'GET / HTTP/1.1\r\nHost: x\r\nA(b): c\r\n\r\n', status: 400, limits: {} },
    { what: 'HTTP/1.1 without Host', raw: 'GET / HTTP/1.1\r\n\r\n', status: 400, limits: {} },
    { what: 'two Host fields', raw: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', status: 400, limits: {} },
    { what: 'an invalid Host', raw: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', status: 400, limits: {} },
    { what: 'a lower-case HTTP-version', raw: 'GET / http/1.1\r\nHost: x\r\n\r\n', status: 400, limits: {} },
    { what: 'a malformed HTTP-version', raw: 'GET / HTTP/1.x\r\nHost: x\r\n\r\n', status: 400, limits: {} },
    { what: 'two spaces after the method', raw: 'GET  / HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, limits: {} },
    { what: 'a fragment in the request-target', raw: 'GET /a#b HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, limits: {} },
    { what: 'asterisk-form for GET', raw: 'GET * HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, limits: {} },
    { what: 'a negative Content-Length', raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', status: 400, limits: {} },
    { what: 'a hex Content-Length', raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0x10\r\n\r\n', status: 400, limits: {} },
    { what: 'conflicting Content-Length values', raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5, 6\r\n\r\n', status: 400, limits: {} },
    { what: 'Content-Length with a space inside', raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1 2\r\n\r\n', status: 400, limits: {} },
    { what: 'Transfer-Encoding and Content-Length together', raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n', status: 400, limits: {} },
    { what: 'Transfer-Encoding not ending in chunked', raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', status: 400, limits: {} },
    { what: 'Transfer-Encoding in HTTP/1.0', raw: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n', status: 400, limits: {} },
    { what: 'a chunk-size that is not hex', raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nxyz\r\n', status: 400, limits: {} },
    { what: 'a malformed chunk extension', raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1;=\r\na\r\n0\r\n\r\n', status: 400, limits: {} },
    { what: 'a Content-Length over the limit', raw: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n', status: 413, limits: small },
    { what: 'chunks adding up past the limit', raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n', status: 413, limits: small },
    { what: 'a request-target over the limit', raw: `GET /${'a'.repeat(64)} HTTP/1.1\r\nHost: x\r\n\r\n`, status: 414, limits: small },
    { what: 'a request-target over the limit, line not yet complete', raw: `GET /${'a'.repeat(200)}`, status: 414, limits: small },
    { what: 'a header section over the limit', raw: `GET / HTTP/1.1\r\nHost: x\r\nA: ${'b'.repeat(300)}\r\n\r\n`, status: 431, limits: small },
    { what: 'a header section over the limit, line not yet complete', raw: `GET / HTTP/1.1\r\nHost: x\r\nA: ${'b'.repeat(300)}`, status: 431, limits: small },
    { what: 'too many header fields', raw: 'GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\nE: 5\r\n\r\n', status: 431, limits: small },
    { what: 'a trailer section over the limit', raw: `POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nT: ${'t'.repeat(300)}\r\n\r\n`, status: 431, limits: small },
    { what: 'a transfer-coding other than chunked', raw: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n', status: 501, limits: {} },
    { what: 'HTTP/2.0', raw: 'GET / HTTP/2.0\r\n\r\n', status: 505, limits: {} },
    { what: 'HTTP/1.2', raw: 'GET / HTTP/1.2\r\nHost: x\r\n\r\n', status: 505, limits: {} },
    { what: 'HTTP/0.9', raw: 'GET / HTTP/0.9\r\n\r\n', status: 505, limits: {} },
  ])('$what → $status', ({ raw, status, limits }) => {
    const events = whole(raw, limits);
    expect(events[events.length - 1]).toEqual({ error: status });
  });

  test('the error detail is one human-readable line', () => {
    const p = new RequestParser();
    p.push(bytes('GET / HTTP/1.1\r\n\r\n'));
    try {
      p.next();
      throw new Error('no error');
    } catch (e) {
      expect(e).toBeInstanceOf(HttpError);
      expect((e as HttpError).detail).toMatch(/^[^\r\n]+$/);
    }
  });

  test('within the limits nothing is refused: a target, header section and body of exactly the limit', () => {
    const target = `/${'a'.repeat(63)}`;
    const events = whole(`POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n0123456789`, small);
    expect(events.map((e) => Object.keys(e)[0])).toEqual(['head', 'data', 'end']);
  });
});

describe('input sent in small pieces costs linear work (no copy or search of the whole tail per piece)', () => {
  /** Pushes `raw` one byte at a time, draining events; returns them and the parser's work counters. */
  function byteAtATime(raw: Buffer): { events: ParseEvent[]; copied: number; searched: number } {
    const p = new RequestParser();
    const events: ParseEvent[] = [];
    for (let i = 0; i < raw.length; i++) {
      p.push(raw.subarray(i, i + 1));
      for (let ev = p.next(); ev !== null; ev = p.next()) events.push(ev);
    }
    return { events, ...p.work };
  }

  test('a 15 KiB header section, one byte per push', () => {
    // Before: every push copied the whole unparsed tail, ~n²/2 = 100 M bytes here.
    const value = 'v'.repeat(15 * 1024);
    const raw = bytes(`GET / HTTP/1.1\r\nHost: x\r\nX-Long: ${value}\r\n\r\n`);
    const { events, copied, searched } = byteAtATime(raw);
    expect(events.length).toBe(1);
    const head = events[0]!;
    if (head.type !== 'head') throw new Error('no head');
    expect(head.head.fields.get('x-long')).toBe(value);
    expect(copied).toBeLessThanOrEqual(3 * raw.length);
    expect(searched).toBeLessThanOrEqual(raw.length);
  });

  test('a long chunk-size line and trailer section, one byte per push, and the content is intact', () => {
    const ext = `;name=${'e'.repeat(3000)}`;
    const raw = bytes(`POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5${ext}\r\nhello\r\n0\r\nT: ${'t'.repeat(8000)}\r\n\r\n`);
    const { events, copied, searched } = byteAtATime(raw);
    const content = Buffer.concat(events.flatMap((e) => (e.type === 'data' ? [e.data] : []))).toString('latin1');
    expect(content).toBe('hello');
    expect(events[events.length - 1]!.type).toBe('end');
    expect(copied).toBeLessThanOrEqual(3 * raw.length);
    expect(searched).toBeLessThanOrEqual(raw.length);
  });

  test('content views handed out stay intact while later bytes are appended behind them', () => {
    const p = new RequestParser();
    // A partial head line keeps the parser copying into its own buffer.
    p.push(bytes('POST / HTTP/1.1\r\nHo'));
    expect(p.next()).toBeNull();
    p.push(bytes('st: x\r\nContent-Length: 6\r\n\r\nabc'));
    const seen: Buffer[] = [];
    for (let ev = p.next(); ev !== null; ev = p.next()) if (ev.type === 'data') seen.push(ev.data);
    p.push(bytes('def'));
    for (let ev = p.next(); ev !== null; ev = p.next()) if (ev.type === 'data') seen.push(ev.data);
    p.push(bytes('GET /next HTTP/1.1\r\nHo'));
    p.push(bytes('st: x\r\n\r\n'));
    expect(p.next()?.type).toBe('head');
    expect(Buffer.concat(seen).toString('latin1')).toBe('abcdef');
  });
});
