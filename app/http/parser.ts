/**
 * The HTTP/1.1 request parser (RFC 9112): sans-I/O and incremental.
 *
 * Bytes go in with {@link RequestParser.push} in pieces of any size; events
 * come out of {@link RequestParser.next} one at a time: a request head, body
 * data, end of message. `null` means "need more bytes". It never touches a
 * socket and never allocates per byte: lines are found with `indexOf` and
 * checked against lookup tables.
 *
 * Line endings (RFC 9112 §2.2): every line must end in CRLF. The RFC lets a
 * recipient accept a bare LF; we do not, because a parser that accepts what
 * another in the chain rejects is how requests get smuggled. A bare LF or a
 * bare CR anywhere in the head or chunked framing is answered 400. Up to
 * {@link MAX_LEADING_EMPTY_LINES} empty lines before a request-line are skipped.
 *
 * Other strict choices, each where the RFC allows rejecting: obs-fold and
 * whitespace before a colon are 400 (§5.1, §5.2), not repaired; any CTL
 * but HTAB in a field value is 400; HTTP-version must be exactly
 * `HTTP/1.0` or `HTTP/1.1`, other well-formed versions (`HTTP/1.2`
 * included) are 505; Transfer-Encoding with Content-Length, on HTTP/1.0,
 * with an empty line, or not ending in a single `chunked` is 400, and a
 * coding before `chunked` is 501 (§6.1, §6.3).
 */

import { HttpError } from './errors.js';
import { Fields } from './fields.js';
import { FIELD_VALUE_CHAR, HEX_VALUE, TARGET_CHAR, TCHAR, splitList } from './grammar.js';

/** Size limits the parser enforces, in bytes unless named otherwise. */
export interface ParserLimits {
  /** Longest request-target accepted; longer is 414 (RFC 9112 §3). */
  maxTargetLength: number;
  /** Largest header section, request-line included; larger is 431 (RFC 6585 §5). */
  maxHeaderSize: number;
  /** Most field lines in the header section; more is 431. */
  maxHeaderCount: number;
  /** Largest request content, either framing; larger is 413 (RFC 9110 §15.5.14). */
  maxBodySize: number;
}

export const DEFAULT_LIMITS: Readonly<ParserLimits> = {
  maxTargetLength: 8 * 1024,
  maxHeaderSize: 16 * 1024,
  maxHeaderCount: 100,
  maxBodySize: 2 * 1024 * 1024 * 1024,
};

/** Longest chunk-size line (size plus chunk extensions) we buffer, in bytes. */
const MAX_CHUNK_LINE = 4096;
/** Most hex digits in a chunk-size: 13 hex digits already exceed 2^52. */
const MAX_CHUNK_SIZE_DIGITS = 13;
/** Empty lines tolerated before a request-line (RFC 9112 §2.2 "at least one"). */
const MAX_LEADING_EMPTY_LINES = 8;

/** How the request's content is delimited (RFC 9112 §6.3). */
export type BodyFraming = 'none' | 'content-length' | 'chunked';

/** The request-target forms of RFC 9112 §3.2. */
export type TargetForm = 'origin' | 'absolute' | 'authority' | 'asterisk';

/** A parsed request-line and header section. */
export interface RequestHead {
  /** The method token, case-sensitive (RFC 9110 §9.1), e.g. `"GET"`. */
  method: string;
  /** The request-target exactly as received. */
  target: string;
  targetForm: TargetForm;
  /** The path component, still percent-encoded; `"*"` for asterisk-form,
   *  the authority itself for authority-form. Always starts with `/` for
   *  origin- and absolute-form. */
  path: string;
  /** The query component without `?`, still percent-encoded; `""` if none. */
  query: string;
  /** HTTP-version minor number: 0 for HTTP/1.0, 1 for HTTP/1.1. */
  minorVersion: 0 | 1;
  fields: Fields;
  framing: BodyFraming;
  /** Content length in bytes when framing is `content-length`, else 0. */
  contentLength: number;
  /** Whether the client lets the connection persist after this exchange
   *  (RFC 9112 §9.3): HTTP/1.1 unless `close`, HTTP/1.0 only with `keep-alive`. */
  keepAlive: boolean;
  /** `Expect: 100-continue` was sent (RFC 9110 §10.1.1). */
  expectContinue: boolean;
}

/**
 * An event produced by {@link RequestParser.next}. A request with content
 * yields `head`, then `data` events, then `end`; a request without content
 * (no framing, or `Content-Length: 0`) is complete at its `head`.
 */
export type ParseEvent =
  | { readonly type: 'head'; readonly head: RequestHead }
  | { readonly type: 'data'; readonly data: Buffer }
  | { readonly type: 'end' };

const END: ParseEvent = Object.freeze({ type: 'end' });
const EMPTY = Buffer.alloc(0);

const enum State {
  Head,
  BodyLength,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  EndPending,
  Dead,
}

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const COLON = 0x3a;

/** Host = uri-host [ ":" port ] (RFC 9110 §7.2, RFC 3986 §3.2.2). */
const HOST_RE = /^(?:\[[0-9A-Fa-f:.]+\]|\[v[0-9A-Fa-f]+\.[A-Za-z0-9\-._~!$&'()*+,;=:]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]*)(?::[0-9]*)?$/;
/** authority-form: uri-host ":" port (RFC 9112 §3.2.3). */
const AUTHORITY_FORM_RE = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~%!$&'()*+,;=]+):[0-9]+$/;
/** absolute-form: scheme "://" authority path-abempty [ "?" query ] (RFC 9112 §3.2.2). */
const ABSOLUTE_RE = /^[Hh][Tt][Tt][Pp][Ss]?:\/\/([^/?]*)(\/[^?]*)?(?:\?(.*))?$/;

/**
 * Incremental request parser for one connection. Feed it bytes with
 * {@link push}; pull events with {@link next} until it returns `null`.
 * A protocol error is thrown from `next()` as an {@link HttpError} (400,
 * 413, 414, 431, 501, 505); after that the parser is dead and the
 * connection must answer and close.
 */
export class RequestParser {
  /** Unconsumed input is `buf[pos, buf.length)`. */
  private buf: Buffer = EMPTY;
  private pos = 0;
  /**
   * Our own buffer holding a partial line across pushes, `buf` being its
   * first `buf.length` bytes; `null` while `buf` is a socket chunk. It grows
   * geometrically, so a head sent a byte at a time costs linear time.
   */
  private store: Buffer | null = null;
  /** `buf[pos, lfSearched)` is known to hold no LF: a partial line is not searched twice. */
  private lfSearched = 0;
  /**
   * Work that grows with the size of the input, counted for tests that show
   * it stays linear however the input is cut: `copied` bytes moved between
   * buffers, `searched` bytes scanned for an LF that was not there yet.
   */
  readonly work = { copied: 0, searched: 0 };
  private state = State.Head;
  private readonly limits: ParserLimits;

  // Head in progress.
  private headBytes = 0;
  private emptyLines = 0;
  private head: RequestHead | null = null;
  private fields: Fields | null = null;
  private hostCount = 0;
  // The previous request's head: a client repeats its target and field
  // values, so equal bytes reuse its strings instead of decoding new ones.
  private prevTarget = '';
  private prevFields: Fields | null = null;
  /** The last Host value that passed {@link HOST_RE}. */
  private validHost = '';

  // Body in progress.
  private remaining = 0;
  private bodyBytes = 0;
  private trailerBytes = 0;

  constructor(limits: Partial<ParserLimits> = {}) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  /** Appends bytes received from the peer. The parser keeps a reference to
   *  `chunk` (no copy) until it has consumed it. */
  push(chunk: Buffer): void {
    if (this.state === State.Dead) return; // nothing more will be parsed
    const buf = this.buf;
    if (this.pos >= buf.length) {
      // Everything before is consumed (the common case): no copy.
      this.buf = chunk;
      this.store = null;
      this.pos = 0;
      this.lfSearched = 0;
      return;
    }
    const end = buf.length;
    const store = this.store;
    if (store !== null && store.length - end >= chunk.length) {
      // Room after the partial line: append. Bytes before `end` may have
      // been handed out as content views; bytes after it never were.
      chunk.copy(store, end);
      this.buf = store.subarray(0, end + chunk.length);
      this.work.copied += chunk.length;
      return;
    }
    const tail = end - this.pos;
    const grown = Buffer.allocUnsafe(Math.max(4096, 2 * (tail + chunk.length)));
    buf.copy(grown, 0, this.pos, end);
    chunk.copy(grown, tail);
    this.work.copied += tail + chunk.length;
    this.store = grown;
    this.buf = grown.subarray(0, tail + chunk.length);
    this.lfSearched = this.lfSearched > this.pos ? this.lfSearched - this.pos : 0;
    this.pos = 0;
  }

  /**
   * Index of the next LF at or after {@link pos}, or -1. A miss is
   * remembered, so the next call searches only bytes pushed since.
   */
  private findLF(): number {
    const buf = this.buf;
    const from = this.lfSearched > this.pos ? this.lfSearched : this.pos;
    const lf = buf.indexOf(LF, from);
    if (lf === -1) {
      this.work.searched += buf.length - from;
      this.lfSearched = buf.length;
    }
    return lf;
  }

  /** Bytes received but not yet consumed by an event. */
  get buffered(): number {
    return this.buf.length - this.pos;
  }

  /** True between messages: no byte of the next request has been consumed
   *  or buffered. Used to tell an idle connection from a slow request. */
  get idle(): boolean {
    return this.state === State.Head && this.headBytes === 0 && this.pos >= this.buf.length;
  }

  /**
   * Returns the next event, or `null` when more bytes are needed.
   * @throws HttpError on any violation of RFC 9112; the parser is dead after.
   */
  next(): ParseEvent | null {
    try {
      switch (this.state) {
        case State.Head:
          return this.parseHead();
        case State.BodyLength:
          return this.readLengthBody();
        case State.ChunkSize:
        case State.ChunkData:
        case State.ChunkDataEnd:
        case State.Trailers:
          return this.readChunked();
        case State.EndPending:
          this.state = State.Head;
          return END;
        case State.Dead:
          return null;
      }
    } catch (e) {
      this.state = State.Dead;
      throw e;
    }
  }

  // ---- head -------------------------------------------------------------

  private parseHead(): ParseEvent | null {
    const buf = this.buf;
    const limits = this.limits;
    for (;;) {
      const start = this.pos;
      const lf = this.findLF();
      if (lf === -1) {
        this.checkPartialLine(buf.length - start);
        return null;
      }
      const lineBytes = lf + 1 - start;
      this.headBytes += lineBytes;
      if (this.headBytes > limits.maxHeaderSize && this.head !== null) {
        throw new HttpError(431, 'header section too large');
      }
      if (lf === start || buf[lf - 1] !== CR) throw new HttpError(400, 'bare LF: lines must end in CRLF');
      const end = lf - 1; // index of CR
      this.pos = lf + 1;
      if (this.head === null) {
        if (end === start) {
          // Empty line before the request-line (RFC 9112 §2.2).
          if (++this.emptyLines > MAX_LEADING_EMPTY_LINES) throw new HttpError(400, 'too many empty lines');
          this.headBytes = 0;
          continue;
        }
        this.parseRequestLine(buf, start, end);
        continue;
      }
      if (end === start) return this.finishHead();
      this.parseFieldLine(buf, start, end, this.fields!, true);
    }
  }

  /** Rejects a line that has grown too long without its LF. */
  private checkPartialLine(partial: number): void {
    const limits = this.limits;
    if (this.head === null) {
      if (partial > limits.maxTargetLength + 64) {
        // Past the method: the target is what is too long.
        const sp = this.buf.indexOf(SP, this.pos);
        if (sp !== -1 && sp - this.pos < 64) throw new HttpError(414, 'request-target too long');
        throw new HttpError(400, 'request-line too long');
      }
    } else if (this.headBytes + partial > limits.maxHeaderSize) {
      throw new HttpError(431, 'header section too large');
    }
  }

  private parseRequestLine(buf: Buffer, start: number, end: number): void {
    // method = token
    let i = start;
    while (i < end && TCHAR[buf[i]!] === 1) i++;
    if (i === start || buf[i] !== SP) throw new HttpError(400, 'malformed method');
    const method = knownMethod(buf, start, i) ?? buf.toString('latin1', start, i);
    // request-target: visible ASCII up to the next SP
    const tStart = ++i;
    let target: string;
    const tEnd = end - 9; // the SP before an 8-byte HTTP-version
    if (tEnd > tStart && buf[tEnd] === SP && sameBytes(buf, tStart, tEnd, this.prevTarget)) {
      // The previous request's target, already checked: the scan would stop at tEnd too.
      target = this.prevTarget;
      i = tEnd;
    } else {
      while (i < end && TARGET_CHAR[buf[i]!] === 1) i++;
      if (i === tStart || buf[i] !== SP) throw new HttpError(400, 'malformed request-target');
      if (i - tStart > this.limits.maxTargetLength) throw new HttpError(414, 'request-target too long');
      target = this.prevTarget = buf.toString('latin1', tStart, i);
    }
    // HTTP-version = "HTTP/" DIGIT "." DIGIT, exactly to the CR
    const v = i + 1;
    if (end - v !== 8) throw new HttpError(400, 'malformed HTTP-version');
    const d1 = buf[v + 5]!;
    const d2 = buf[v + 7]!;
    if (
      buf[v] !== 0x48 || buf[v + 1] !== 0x54 || buf[v + 2] !== 0x54 || buf[v + 3] !== 0x50 ||
      buf[v + 4] !== 0x2f || buf[v + 6] !== 0x2e || d1 < 0x30 || d1 > 0x39 || d2 < 0x30 || d2 > 0x39
    ) {
      throw new HttpError(400, 'malformed HTTP-version');
    }
    let minor: 0 | 1;
    if (d1 === 0x31 && d2 === 0x31) minor = 1;
    else if (d1 === 0x31 && d2 === 0x30) minor = 0;
    else throw new HttpError(505, `HTTP/${String.fromCharCode(d1)}.${String.fromCharCode(d2)} is not supported`);

    const head: RequestHead = {
      method,
      target,
      targetForm: 'origin',
      path: target,
      query: '',
      minorVersion: minor,
      fields: new Fields(),
      framing: 'none',
      contentLength: 0,
      keepAlive: minor === 1,
      expectContinue: false,
    };
    parseTarget(head);
    this.head = head;
    this.fields = head.fields;
    this.hostCount = 0;
  }

  /**
   * field-line = field-name ":" OWS field-value OWS (RFC 9112 §5).
   * Rejects whitespace before the colon, obs-fold, a non-token name and
   * CTLs (NUL, bare CR) in the value, all with 400.
   */
  private parseFieldLine(buf: Buffer, start: number, end: number, into: Fields, isHeader: boolean): void {
    const c0 = buf[start]!;
    if (c0 === SP || c0 === HTAB) throw new HttpError(400, 'obs-fold or whitespace before a field line');
    let i = start;
    while (i < end && TCHAR[buf[i]!] === 1) i++;
    if (buf[i] !== COLON) {
      const c = buf[i];
      if (c === SP || c === HTAB) throw new HttpError(400, 'whitespace between field-name and colon');
      if (i === end) throw new HttpError(400, 'field line without a colon');
      throw new HttpError(400, 'field-name is not a token');
    }
    if (i === start) throw new HttpError(400, 'empty field-name');
    const name = knownFieldName(buf, start, i) ?? buf.toString('latin1', start, i).toLowerCase();
    i++;
    while (i < end && (buf[i] === SP || buf[i] === HTAB)) i++;
    const vStart = i;
    // The previous request's value on the same line: checked and trimmed already.
    const prev = isHeader ? this.prevFields : null;
    const at = into.size;
    const earlier = prev !== null && at < prev.size && prev.names[at] === name ? prev.values[at]! : undefined;
    let value: string;
    if (earlier !== undefined && sameBytes(buf, vStart, end, earlier)) {
      value = earlier;
    } else {
      let vEnd = vStart;
      for (; i < end; i++) {
        const c = buf[i]!;
        if (FIELD_VALUE_CHAR[c] === 0) {
          throw new HttpError(400, c === CR ? 'bare CR in field value' : 'control character in field value');
        }
        if (c !== SP && c !== HTAB) vEnd = i + 1;
      }
      value = earlier !== undefined && sameBytes(buf, vStart, vEnd, earlier) ? earlier : buf.toString('latin1', vStart, vEnd);
    }
    if (isHeader) {
      if (into.size >= this.limits.maxHeaderCount) throw new HttpError(431, 'too many header fields');
      if (name === 'host') this.hostCount++;
    }
    into.append(name, value);
  }

  /** Applies RFC 9112 §6.3 and §9.3 to a complete header section. */
  private finishHead(): ParseEvent {
    const head = this.head!;
    const fields = head.fields;
    this.head = null;
    this.fields = null;
    this.headBytes = 0;
    this.emptyLines = 0;
    this.prevFields = fields;

    if (head.minorVersion === 1 && this.hostCount !== 1) {
      throw new HttpError(400, this.hostCount === 0 ? 'missing Host header field' : 'more than one Host header field');
    }
    if (this.hostCount > 1) throw new HttpError(400, 'more than one Host header field');
    if (this.hostCount === 1) {
      const host = fields.get('host')!;
      // An origin-form target's URI has an authority, so its Host cannot be empty (RFC 9112 §3.2).
      if (host === '' && head.minorVersion === 1 && head.targetForm === 'origin') throw new HttpError(400, 'empty Host');
      if (host !== this.validHost) {
        if (!HOST_RE.test(host)) throw new HttpError(400, 'invalid Host');
        this.validHost = host;
      }
    }

    const connection = fields.get('connection');
    if (connection !== undefined) {
      for (const opt of splitList(connection.toLowerCase())) {
        if (opt === 'close') head.keepAlive = false;
        else if (opt === 'keep-alive' && head.minorVersion === 0) head.keepAlive = true;
      }
    }

    const expect = fields.get('expect');
    if (expect !== undefined) {
      if (expect.toLowerCase() !== '100-continue') throw new HttpError(417, 'only "100-continue" is understood');
      head.expectContinue = head.minorVersion === 1;
    }

    const te = fields.get('transfer-encoding');
    const cl = fields.get('content-length');
    if (te !== undefined) {
      if (cl !== undefined) throw new HttpError(400, 'both Transfer-Encoding and Content-Length');
      if (head.minorVersion === 0) throw new HttpError(400, 'Transfer-Encoding in an HTTP/1.0 request');
      // An empty line is refused, not skipped: a peer that keeps only the
      // last Transfer-Encoding line would see none and frame differently.
      for (const line of fields.getAll('transfer-encoding')) {
        if (splitList(line).length === 0) throw new HttpError(400, 'empty Transfer-Encoding');
      }
      const codings = splitList(te.toLowerCase());
      const last = codings[codings.length - 1]!;
      // Only a final "chunked" delimits the content (RFC 9112 §6.3 item 4).
      if (last !== 'chunked') throw new HttpError(400, 'Transfer-Encoding does not end in chunked');
      if (codings.indexOf('chunked') !== codings.length - 1) throw new HttpError(400, 'chunked applied more than once');
      for (const c of codings) {
        if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(c)) throw new HttpError(400, 'malformed transfer-coding');
      }
      // We decode no transfer-coding other than chunked (RFC 9112 §6.1).
      if (codings.length > 1) throw new HttpError(501, `transfer-coding "${codings[0]}" is not implemented`);
      head.framing = 'chunked';
      this.bodyBytes = 0;
      this.state = State.ChunkSize;
    } else if (cl !== undefined) {
      head.contentLength = parseContentLength(cl);
      if (head.contentLength > this.limits.maxBodySize) {
        throw new HttpError(413, `content larger than ${this.limits.maxBodySize} bytes`);
      }
      head.framing = 'content-length';
      if (head.contentLength > 0) {
        this.remaining = head.contentLength;
        this.state = State.BodyLength;
      }
    }
    return { type: 'head', head };
  }

  // ---- content ------------------------------------------------------------

  private readLengthBody(): ParseEvent | null {
    const avail = this.buf.length - this.pos;
    if (avail === 0) return null;
    const n = avail < this.remaining ? avail : this.remaining;
    const data = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.remaining -= n;
    if (this.remaining === 0) this.state = State.EndPending;
    return { type: 'data', data };
  }

  /** chunked-body (RFC 9112 §7.1). */
  private readChunked(): ParseEvent | null {
    const buf = this.buf;
    for (;;) {
      switch (this.state) {
        case State.ChunkSize: {
          const lf = this.findLF();
          if (lf === -1) {
            if (buf.length - this.pos > MAX_CHUNK_LINE) throw new HttpError(400, 'chunk-size line too long');
            return null;
          }
          if (lf - this.pos + 1 > MAX_CHUNK_LINE) throw new HttpError(400, 'chunk-size line too long');
          if (lf === this.pos || buf[lf - 1] !== CR) throw new HttpError(400, 'bare LF in chunked framing');
          const size = parseChunkSizeLine(buf, this.pos, lf - 1);
          this.pos = lf + 1;
          if (size === 0) {
            this.trailerBytes = 0;
            this.state = State.Trailers;
            continue;
          }
          this.bodyBytes += size;
          if (this.bodyBytes > this.limits.maxBodySize) {
            throw new HttpError(413, `content larger than ${this.limits.maxBodySize} bytes`);
          }
          this.remaining = size;
          this.state = State.ChunkData;
          continue;
        }
        case State.ChunkData: {
          const avail = buf.length - this.pos;
          if (avail === 0) return null;
          const n = avail < this.remaining ? avail : this.remaining;
          const data = buf.subarray(this.pos, this.pos + n);
          this.pos += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          return { type: 'data', data };
        }
        case State.ChunkDataEnd: {
          if (buf.length - this.pos < 2) {
            if (buf.length > this.pos && buf[this.pos] !== CR) throw new HttpError(400, 'missing CRLF after chunk-data');
            return null;
          }
          if (buf[this.pos] !== CR || buf[this.pos + 1] !== LF) throw new HttpError(400, 'missing CRLF after chunk-data');
          this.pos += 2;
          this.state = State.ChunkSize;
          continue;
        }
        case State.Trailers: {
          const lf = this.findLF();
          if (lf === -1) {
            if (this.trailerBytes + buf.length - this.pos > this.limits.maxHeaderSize) {
              throw new HttpError(431, 'trailer section too large');
            }
            return null;
          }
          this.trailerBytes += lf + 1 - this.pos;
          if (this.trailerBytes > this.limits.maxHeaderSize) throw new HttpError(431, 'trailer section too large');
          if (lf === this.pos || buf[lf - 1] !== CR) throw new HttpError(400, 'bare LF in trailer section');
          const start = this.pos;
          this.pos = lf + 1;
          if (lf - 1 === start) {
            this.state = State.Head;
            return END;
          }
          // Trailer fields are checked like header fields, then discarded
          // (RFC 9110 §6.5.1 lets a recipient do so).
          this.parseFieldLine(buf, start, lf - 1, new Fields(), false);
          continue;
        }
        default:
          return null;
      }
    }
  }
}

/**
 * Content-Length = 1*DIGIT (RFC 9110 §8.6). A list of identical values
 * (from repeated lines or commas) is folded to one; anything else is 400.
 * @returns the length in bytes.
 * @throws HttpError 400 on signs, spaces inside, hex, empty or differing values.
 */
export function parseContentLength(value: string): number {
  let result = -1;
  for (const part of value.split(',')) {
    const v = part.replace(/^[ \t]+|[ \t]+$/g, '');
    if (!/^[0-9]{1,15}$/.test(v)) throw new HttpError(400, 'invalid Content-Length');
    const n = Number(v);
    if (result !== -1 && n !== result) throw new HttpError(400, 'conflicting Content-Length values');
    result = n;
  }
  return result;
}

/**
 * chunk-size [ chunk-ext ] between `start` and the CR at `end`
 * (RFC 9112 §7.1, §7.1.1). Extensions are checked and ignored.
 * @returns the chunk size in bytes.
 * @throws HttpError 400 on a missing or non-hex size, overflow, or a
 *   malformed extension.
 */
function parseChunkSizeLine(buf: Buffer, start: number, end: number): number {
  let i = start;
  let size = 0;
  let digits = 0; // significant ones: leading zeros are valid and harmless
  while (i < end) {
    const h = HEX_VALUE[buf[i]!]!;
    if (h < 0) break;
    if ((size !== 0 || h !== 0) && ++digits > MAX_CHUNK_SIZE_DIGITS) throw new HttpError(400, 'chunk-size too large');
    size = size * 16 + h;
    i++;
  }
  if (i === start) throw new HttpError(400, 'invalid chunk-size');
  if (i === end) return size;
  // chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
  const ext = buf.toString('latin1', i, end);
  if (!CHUNK_EXT_RE.test(ext)) throw new HttpError(400, 'malformed chunk extension');
  return size;
}

const TOKEN = "[!#$%&'*+\\-.^_`|~0-9A-Za-z]+";
const QUOTED = '"(?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*"';
const CHUNK_EXT_RE = new RegExp(`^(?:[ \\t]*;[ \\t]*${TOKEN}(?:[ \\t]*=[ \\t]*(?:${TOKEN}|${QUOTED}))?)+$`);

/** Sets `path`, `query` and `targetForm` from `head.target` (RFC 9112 §3.2). */
function parseTarget(head: RequestHead): void {
  const target = head.target;
  const c0 = target.charCodeAt(0);
  if (target.includes('#')) throw new HttpError(400, 'fragment in request-target');
  if (head.method === 'CONNECT') {
    // authority-form = uri-host ":" port, and only for CONNECT (RFC 9112 §3.2.3).
    if (!AUTHORITY_FORM_RE.test(target)) throw new HttpError(400, 'CONNECT needs authority-form');
    head.targetForm = 'authority';
    head.path = target;
    return;
  }
  if (c0 === 0x2f /* / */) {
    const q = target.indexOf('?');
    if (q !== -1) {
      head.path = target.slice(0, q);
      head.query = target.slice(q + 1);
    }
    return;
  }
  if (target === '*') {
    if (head.method !== 'OPTIONS') throw new HttpError(400, 'asterisk-form is only for OPTIONS');
    head.targetForm = 'asterisk';
    return;
  }
  const m = ABSOLUTE_RE.exec(target);
  // An http(s) URI needs a host and must not carry userinfo (RFC 9110 §4.2.1, §4.2.4).
  if (m === null || m[1] === '' || !HOST_RE.test(m[1]!)) throw new HttpError(400, 'malformed request-target');
  head.targetForm = 'absolute';
  head.path = m[2] ?? '/';
  head.query = m[3] ?? '';
}

// ---- decoding without allocating (hot path) ----------------------------------

/** Longest string {@link sameBytes} compares; longer ones are decoded afresh. */
const MAX_REUSED_LENGTH = 256;

/** True when `buf[start, end)` holds exactly the latin1 bytes of `s`. */
function sameBytes(buf: Buffer, start: number, end: number, s: string): boolean {
  const n = end - start;
  if (n !== s.length || n > MAX_REUSED_LENGTH) return false;
  for (let k = 0; k < n; k++) if (buf[start + k] !== s.charCodeAt(k)) return false;
  return true;
}

const METHODS_BY_LENGTH: readonly (readonly string[])[] = groupByLength(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']);

/** The common method at `buf[start, end)` as a constant string (case-sensitive, RFC 9110 §9.1), or `undefined`. */
function knownMethod(buf: Buffer, start: number, end: number): string | undefined {
  const candidates = METHODS_BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  for (const m of candidates) if (sameBytes(buf, start, end, m)) return m;
  return undefined;
}

const FIELD_NAMES_BY_LENGTH: readonly (readonly string[])[] = groupByLength([
  'host', 'user-agent', 'accept', 'accept-encoding', 'accept-language', 'connection', 'content-length',
  'content-type', 'transfer-encoding', 'expect', 'cookie', 'referer', 'origin', 'cache-control', 'pragma',
  'if-none-match', 'if-modified-since', 'if-match', 'if-unmodified-since', 'if-range', 'range',
  'authorization', 'upgrade', 'te', 'keep-alive',
]);

/**
 * The common field-name at `buf[start, end)`, lower-case, as a constant
 * string, or `undefined`. Only for bytes already checked to be tchar: then
 * `c | 0x20` equals a lower-case letter only for that letter in either case,
 * and equals "-" only for "-".
 */
function knownFieldName(buf: Buffer, start: number, end: number): string | undefined {
  const candidates = FIELD_NAMES_BY_LENGTH[end - start];
  if (candidates === undefined) return undefined;
  outer: for (const name of candidates) {
    for (let k = 0; k < name.length; k++) if ((buf[start + k]! | 0x20) !== name.charCodeAt(k)) continue outer;
    return name;
  }
  return undefined;
}

function groupByLength(words: readonly string[]): string[][] {
  const out: string[][] = [];
  for (const w of words) (out[w.length] ??= []).push(w);
  return out;
}
