/**
 * One HTTP/1.1 connection: the only module that touches a socket.
 *
 * Bytes from the socket go into the {@link RequestParser}; each request is
 * handed to the handler; responses go out in request order, coalesced into
 * one write when several are ready at once (pipelining). Exchanges are
 * served one at a time, so "in order" holds by construction. Persistence
 * follows RFC 9112 §9.3; timeouts and back-pressure keep a slow or hostile
 * peer from holding memory or the process:
 *
 * - reading stops while the socket's write buffer is full, while a body
 *   reader is behind, and whenever more than {@link MAX_BUFFERED_INPUT}
 *   bytes wait unparsed (a handler or a streamed response is still busy);
 * - closing flushes, sends FIN, then discards input until the peer's FIN
 *   (or a short linger) so that a reset never destroys the last response
 *   (RFC 9112 §9.6);
 * - a stream body is held to the length it declared: fewer or more bytes
 *   cut the connection rather than desynchronise it.
 *
 * Its state is written down below as a table of our side and their side
 * (as h11 does); flow control is kept apart from it.
 */

import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { HttpError, isHttpError } from './errors.js';
import { type ParserLimits, type RequestHead, RequestParser } from './parser.js';
import { type Request, RequestBody } from './request.js';
import {
  type Handler,
  type Response,
  type ResponseFraming,
  LAST_CHUNK,
  TEXT_PLAIN,
  bodyLength,
  chunkHeader,
  isStreamBody,
  joinHeadAndBody,
  releaseBody,
  serializeHead,
} from './response.js';
import { statusHasNoContent } from './status.js';

/** Timeouts in milliseconds. */
export interface Timeouts {
  /** From the first byte of a request to the end of its header section; then 408 (slowloris). */
  headersTimeout: number;
  /** An idle persistent connection is closed after this long (RFC 9112 §9.5). */
  keepAliveTimeout: number;
  /** Longest pause while receiving content, or while the peer is not reading our response. */
  bodyTimeout: number;
}

export interface ConnectionOptions extends ParserLimits, Timeouts {
  /**
   * Send a `Date` field in every response (RFC 9110 §6.6.1). Off by
   * default: the CodeCrafters tester rejects responses that carry one.
   */
  sendDate?: boolean;
}

let dateSecond = -1;
let dateLine = '';

/** `head` with a `Date` field line after its status-line; the value changes once a second. */
function withDate(head: string, now: number): string {
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateLine = `Date: ${new Date(second * 1000).toUTCString()}\r\n`;
  }
  const i = head.indexOf('\r\n') + 2;
  return head.slice(0, i) + dateLine + head.slice(i);
}

/** Called with every handler failure that became a 500, for logging. */
export type ErrorReporter = (err: unknown, req: Request | null) => void;

/** The two ends of a connection, as the socket reports them. */
export interface ConnectionEnds {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
}

/**
 * One exchange as the engine saw it, reported once its response is handed
 * to the socket (or cut short): what an access log needs, in no format.
 */
export interface ExchangeRecord {
  /** The request head; `null` when the engine answered before one was complete (400, 408, 414, 431). */
  readonly request: RequestHead | null;
  /** The status sent. */
  readonly status: number;
  /** Bytes written for this exchange: any `100 Continue`, the head and the content with its chunk framing. */
  readonly bytesSent: number;
  /** When its head was complete (or the engine's error arose), ms since the epoch. */
  readonly startTime: number;
  /** Milliseconds from then to the last byte handed to the socket (fractional). */
  readonly durationMs: number;
  /** The connection was closed before the whole response was written. */
  readonly aborted: boolean;
  readonly connection: ConnectionEnds;
}

/** Receives every {@link ExchangeRecord}; must not throw. */
export type ExchangeReporter = (record: ExchangeRecord) => void;

/** A head as it crossed the wire, for `--trace`. */
export interface TraceRecord {
  /** Numbers the server's connections from 1, in the order they were accepted. */
  readonly connectionId: number;
  readonly connection: ConnectionEnds;
  /**
   * `request`: a request head, bytes as received (empty lines before it included);
   * `response`: a response head (or `100 Continue`) as written;
   * `unparsed`: what was received of a request the parser rejected (at most {@link MAX_UNPARSED_TRACE} bytes).
   */
  readonly kind: 'request' | 'response' | 'unparsed';
  /** The bytes: a Buffer, or a string of latin1 chars (one per byte). */
  readonly head: Buffer | string;
  /** ms since the epoch. */
  readonly time: number;
}

/** Receives every {@link TraceRecord}; must not throw. */
export type TraceReporter = (record: TraceRecord) => void;

/** Bytes of a rejected request kept in a trace. */
const MAX_UNPARSED_TRACE = 16 * 1024;
let nextConnectionId = 1;

// ---- the state machine -------------------------------------------------------
//
// The connection's state is two small machines, one per side, the way h11
// writes it ("our side" and "their side"). Every protocol decision reads
// them; the flags of the old design (responded, sent, streaming, closing,
// destroyed, the deadline's purpose) are derived from them. Flow control
// (our writes blocked, a body reader behind, the socket paused) is kept
// apart, as h11 also leaves it to the caller: it says when to act, never
// what the protocol state is.
//
// Our side, the response to the request in progress:
//
//   from      event                                     to
//   Idle      their head is complete: handler called    Handling
//   Idle      idle timeout, their FIN, a parse error    Closing
//   Handling  the handler answers, whole body queued    Sent
//   Handling  the handler answers with a stream body    Sending
//   Handling  a parse error or a content timeout: the
//             engine answers instead (handler dropped)  Closing
//   Sending   the stream ends, all declared bytes sent  Sent
//   Sent      their content is complete, persistent     Idle
//   Sent      the exchange closes the connection        Closing
//   Closing   our FIN is sent and theirs arrived, or
//             the linger ended                          Closed
//   any       destroy(): socket error, timeout while
//             sending, a stream that fails or lies
//             about its length, a bug                   Closed
//
// Their side, the request stream:
//
//   from      event                                     to
//   Idle      a byte of the next head is buffered       Head
//   Idle|Head the head is complete, no content          Done
//   Idle|Head the head is complete, content follows     Body
//   Body      the last byte of content                  Done
//   Done      our side finishes the exchange            Idle | Head
//   any       their FIN is reached in the byte stream   Ended
//   any       a parse error                             Error
//
// Ended and Error are final. A FIN that arrives behind buffered requests is
// reached only once those are consumed, so they are still answered.

/** Our side. */
const enum Ours {
  Idle,
  Handling,
  Sending,
  Sent,
  Closing,
  Closed,
}

/** Their side. */
const enum Theirs {
  Idle,
  Head,
  Body,
  Done,
  Ended,
  Error,
}

/** Legal transitions of our side: bit `to` of `OURS_NEXT[from]`. */
const OURS_NEXT: readonly number[] = [
  /* Idle */ (1 << Ours.Handling) | (1 << Ours.Closing) | (1 << Ours.Closed),
  /* Handling */ (1 << Ours.Sent) | (1 << Ours.Sending) | (1 << Ours.Closing) | (1 << Ours.Closed),
  /* Sending */ (1 << Ours.Sent) | (1 << Ours.Closed),
  /* Sent */ (1 << Ours.Idle) | (1 << Ours.Closing) | (1 << Ours.Closed),
  /* Closing */ 1 << Ours.Closed,
  /* Closed */ 0,
];

/** Legal transitions of their side: bit `to` of `THEIRS_NEXT[from]`. */
const THEIRS_NEXT: readonly number[] = [
  /* Idle */ (1 << Theirs.Head) | (1 << Theirs.Body) | (1 << Theirs.Done) | (1 << Theirs.Ended) | (1 << Theirs.Error),
  /* Head */ (1 << Theirs.Body) | (1 << Theirs.Done) | (1 << Theirs.Ended) | (1 << Theirs.Error),
  /* Body */ (1 << Theirs.Done) | (1 << Theirs.Ended) | (1 << Theirs.Error),
  /* Done */ (1 << Theirs.Idle) | (1 << Theirs.Head),
  /* Ended */ 0,
  /* Error */ 0,
];

/** What the connection's deadline is for: derived from the two sides by {@link Connection.waitNow}. */
const enum Wait {
  /** Nothing is due: a handler is running. */
  None,
  /** Between requests: the keep-alive timeout. */
  Idle,
  /** Reading a header section: the headers timeout, from its first byte. */
  Head,
  /** Reading content, or waiting for the peer to read ours: the body timeout, from the last progress. */
  Transfer,
  /** Our FIN is sent, waiting for theirs. */
  Linger,
  /** Closed. */
  Gone,
}

/**
 * Bun 1.3's `socket.end()` closes the descriptor instead of shutting down
 * its write side (oven-sh/bun#31383, fixed later by #31389): input still
 * unread in the kernel then turns the close into a reset, and the client
 * loses the response we just wrote (a 413 while it is still sending). There
 * we wait for our output to be flushed and shut the write side down through
 * the socket's handle, which sends FIN and keeps reading.
 */
const END_CLOSES_DESCRIPTOR = typeof process.versions.bun === 'string';
const NOTHING = Buffer.alloc(0);

/** How long a closing connection waits for the peer to close, in ms. */
const LINGER_MS = 2000;

// One reading of the clock per run of a connection's work: the deadlines set
// while one I/O event is handled (one per request of a pipelined batch) all
// start from the same instant (Date.now took ~60 ns a call on the bench machine).
let runDepth = 0;
let runClock = 0;

/** Milliseconds since the epoch; inside {@link Connection.run}, read once per run. */
function clock(): number {
  if (runDepth === 0) return Date.now();
  if (runClock === 0) runClock = Date.now();
  return runClock;
}
/** Unparsed input held while the connection is busy, in bytes; past it the socket is paused. */
const MAX_BUFFERED_INPUT = 64 * 1024;
/** A Buffer body at least this long (bytes) is queued by reference rather than copied next to its head. */
const LARGE_BODY = 16 * 1024;
/** Queued output that is written at once instead of coalescing further, in bytes. */
const MAX_QUEUED_OUTPUT = 64 * 1024;
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');
const INTERNAL_ERROR: Response = Object.freeze({
  status: 500,
  headers: TEXT_PLAIN,
  body: 'internal server error\n',
});

/** One request/response exchange: its request and what it decided. Its progress is the connection's state. */
interface Exchange {
  readonly req: Request;
  readonly body: RequestBody;
  /** Close the connection after this exchange. */
  close: boolean;
  continueSent: boolean;
  /** The status answered; 0 until then. */
  status: number;
  /** The connection's bytes written when it started. */
  readonly startOut: number;
  /** Start, ms since the epoch, and on the monotonic clock (only when exchanges are reported). */
  readonly startTime: number;
  readonly startMono: number;
}

/**
 * Serves HTTP/1.1 on one accepted socket until either side closes it.
 * Never throws: every failure becomes a response or a close, and a bug in
 * a handler or in this class closes this connection, not the process.
 */
export class Connection {
  private readonly parser: RequestParser;
  private ours = Ours.Idle;
  private theirs = Theirs.Idle;
  /** The exchange in progress: set exactly while our side is Handling, Sending or Sent. */
  private current: Exchange | null = null;
  /** The stream body being sent: set exactly while our side is Sending. */
  private streaming: Readable | null = null;
  /** Their FIN has arrived; it sits behind whatever input is still buffered. */
  private finReceived = false;
  /** Closing: all our output is written and our FIN sent. */
  private finSent = false;
  /** The server is shutting down: the exchange in progress is the last one ({@link drain}). */
  private draining = false;

  // Output queue.
  private readonly out: Buffer[] = [];
  /** Latin1 text queued after the last Buffer in {@link out}: heads and ASCII bodies, written without a Buffer copy. */
  private outText = '';
  private outBytes = 0;
  /** Bytes ever written (queued or streamed) on this connection: per-exchange counts are differences. */
  private totalOut = 0;
  private ends: ConnectionEnds | null = null;

  // Tracing (only with a tracer): input chunks not yet traced or skipped, from stream offset `inBase`.
  private connectionId = 0;
  private inChunks: Buffer[] = [];
  private inBase = 0;
  private received = 0;
  /** Stream offset where the next request head starts: the end of the last parser event. */
  private traceFrom = 0;

  // Flow control, apart from the states.
  /** The socket's buffer is full: stop taking requests until 'drain'. */
  private writeBlocked = false;
  /** A body reader is behind: stop feeding it until it asks again. */
  private bodyBlocked = false;
  /** We called `socket.pause()`. */
  private readPaused = false;
  /** Inside {@link pump}: a re-entrant call returns at once. */
  private pumping = false;

  /** What the deadline is for, and when it passes (ms since epoch; 0: none). */
  private wait = Wait.Idle;
  deadline = 0;

  constructor(
    private readonly socket: Socket,
    private readonly handler: Handler<Request>,
    private readonly options: ConnectionOptions,
    private readonly reportError: ErrorReporter,
    private readonly onClose: (c: Connection) => void,
    private readonly onExchange?: ExchangeReporter,
    private readonly tracer?: TraceReporter,
  ) {
    if (tracer !== undefined) this.connectionId = nextConnectionId++;
    this.parser = new RequestParser(options);
    socket.setNoDelay(true);
    this.setDeadline(Wait.Idle);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.onSocketClose());
  }

  /** Moves our side to `to`. @throws Error on a transition the table does not list (a bug: the connection is dropped). */
  private toOurs(to: Ours): void {
    if ((OURS_NEXT[this.ours]! & (1 << to)) === 0) throw new Error(`connection state: our side cannot go from ${this.ours} to ${to}`);
    this.ours = to;
  }

  /** Moves their side to `to`. @throws Error on a transition the table does not list. */
  private toTheirs(to: Theirs): void {
    if ((THEIRS_NEXT[this.theirs]! & (1 << to)) === 0) throw new Error(`connection state: their side cannot go from ${this.theirs} to ${to}`);
    this.theirs = to;
  }

  /** Our side is closing or closed: input is discarded, nothing more is answered. */
  private get closing(): boolean {
    return this.ours >= Ours.Closing;
  }

  private get destroyed(): boolean {
    return this.ours === Ours.Closed;
  }

  // ---- input ----------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closing) return; // discarding until the peer closes
    if (this.tracer !== undefined) {
      this.inChunks.push(chunk);
      this.received += chunk.length;
    }
    this.parser.push(chunk);
    this.run();
  }

  /** Does whatever the last event made possible; a bug here closes this connection only. */
  private run(): void {
    runDepth++;
    try {
      this.pump();
      this.flush();
      this.updateReading();
      this.arm();
    } catch (e) {
      this.crash(e);
    } finally {
      if (--runDepth === 0) runClock = 0;
    }
  }

  /**
   * Pulls parser events while the connection can act on them: no handler
   * pending between messages, no full write buffer, no reader behind.
   * Re-entrant calls (a handler reading the body synchronously) return at
   * once: the outer loop re-checks its conditions after every event.
   */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    try {
      this.pumpEvents();
    } finally {
      this.pumping = false;
    }
  }

  private pumpEvents(): void {
    for (;;) {
      // Done: waiting for our response. Ended, Error: no more input will be parsed.
      if (this.closing || this.bodyBlocked || this.theirs >= Theirs.Done) return;
      if (this.ours === Ours.Idle) {
        if (this.outBytes >= MAX_QUEUED_OUTPUT) this.flush();
        if (this.writeBlocked) return;
      }
      let ev;
      try {
        ev = this.parser.next();
      } catch (e) {
        if (this.tracer !== undefined) this.traceInput('unparsed');
        this.toTheirs(Theirs.Error);
        this.failProtocol(e as HttpError);
        return;
      }
      if (ev === null) {
        if (this.finReceived) this.inputEnded();
        else if (this.theirs === Theirs.Idle && !this.parser.idle) this.toTheirs(Theirs.Head);
        return;
      }
      if (this.tracer !== undefined) this.traceInput(ev.type === 'head' ? 'request' : null);
      switch (ev.type) {
        case 'head':
          this.start(ev.head as Request);
          break;
        case 'data': {
          this.progress();
          if (this.ours !== Ours.Handling) break; // answered without reading: discard
          if (!this.current!.body.push(ev.data)) this.bodyBlocked = true;
          break;
        }
        case 'end': {
          this.toTheirs(Theirs.Done);
          this.current!.body.end();
          if (this.ours === Ours.Sent) this.finish();
          break;
        }
      }
    }
  }

  /**
   * Tracing: the input consumed since the last parser event is a request
   * head (`request`), the start of a rejected one (`unparsed`, everything
   * received), or content (`null`: skipped). Chunks before the new start are let go.
   */
  private traceInput(kind: 'request' | 'unparsed' | null): void {
    const to = kind === 'unparsed' ? Math.min(this.received, this.traceFrom + MAX_UNPARSED_TRACE) : this.received - this.parser.buffered;
    if (kind !== null) {
      const parts: Buffer[] = [];
      let offset = this.inBase;
      for (const c of this.inChunks) {
        const start = Math.max(this.traceFrom, offset);
        const end = Math.min(to, offset + c.length);
        if (end > start) parts.push(c.subarray(start - offset, end - offset));
        offset += c.length;
      }
      this.traceOut(kind, Buffer.concat(parts));
    }
    this.traceFrom = to;
    while (this.inChunks.length > 0 && this.inBase + this.inChunks[0]!.length <= to) this.inBase += this.inChunks.shift()!.length;
  }

  private traceOut(kind: TraceRecord['kind'], head: Buffer | string): void {
    try {
      this.tracer!({ connectionId: this.connectionId, connection: this.endsNow(), kind, head, time: Date.now() });
    } catch (e) {
      this.reportError(e, null);
    }
  }

  private endsNow(): ConnectionEnds {
    if (this.ends === null) {
      const s = this.socket;
      this.ends = { localAddress: s.localAddress ?? '', localPort: s.localPort ?? 0, remoteAddress: s.remoteAddress ?? '', remotePort: s.remotePort ?? 0 };
    }
    return this.ends;
  }

  /** Their FIN is reached: every complete message before it is consumed. */
  private inputEnded(): void {
    const theirs = this.theirs;
    this.toTheirs(Theirs.Ended);
    const ex = this.current;
    if (ex === null) {
      // Idle: goodbye. Inside a head: a truncated request, nothing to answer.
      this.closeGracefully();
      return;
    }
    // Inside a body: it will never complete. The handler sees the error;
    // whatever it answers is the last response.
    ex.close = true;
    if (theirs === Theirs.Body) ex.body.abort(new Error('client closed before sending all content'));
    if (this.ours === Ours.Sent) this.closeGracefully();
  }

  private start(head: Request): void {
    const req = head as Request & { body: RequestBody; connection: ConnectionEnds };
    // The body's demand is tied to its own exchange, never to whichever is current.
    const body = new RequestBody(
      head.framing === 'none' ? 0 : head.framing === 'content-length' ? head.contentLength : undefined,
      () => this.onBodyDemand(ex),
    );
    const report = this.onExchange !== undefined;
    const ex: Exchange = {
      req,
      body,
      close: !head.keepAlive || this.draining,
      continueSent: false,
      status: 0,
      startOut: this.totalOut,
      startTime: report ? Date.now() : 0,
      startMono: report ? performance.now() : 0,
    };
    req.body = body;
    req.connection = this.endsNow(); // read from the socket once per connection
    this.current = ex;
    this.toTheirs(body.present ? Theirs.Body : Theirs.Done);
    this.toOurs(Ours.Handling);
    let res: Response | Promise<Response>;
    try {
      res = this.handler(req);
    } catch (e) {
      this.respond(ex, this.failureResponse(e, ex));
      return;
    }
    if (res instanceof Promise) {
      res.then(
        (r) => this.respondLater(ex, r),
        (e) => this.respondLater(ex, this.failureResponse(e, ex)),
      );
    } else {
      this.respond(ex, res);
    }
  }

  private respondLater(ex: Exchange, res: Response): void {
    if (this.destroyed) {
      if (isResponse(res)) releaseBody(res.body);
      return;
    }
    try {
      this.respond(ex, res);
    } catch (e) {
      this.crash(e);
      return;
    }
    this.run();
  }

  /**
   * The handler of `ex` asked for content: resume reading, owe no more
   * `100 Continue`. A read from an exchange that is over (a handler that
   * kept its body past its response) changes nothing.
   */
  private onBodyDemand(ex: Exchange): void {
    if (this.current !== ex || this.closing) return;
    // No `100 Continue` once content has arrived anyway (RFC 9110 §10.1.1 "MAY omit").
    if (ex.req.expectContinue && !ex.continueSent && this.ours === Ours.Handling && ex.body.received === 0 && !ex.body.complete) {
      ex.continueSent = true;
      this.queue(CONTINUE);
      if (this.tracer !== undefined) this.traceOut('response', CONTINUE);
    }
    this.bodyBlocked = false;
    this.run();
  }

  private onPeerEnd(): void {
    this.finReceived = true;
    if (this.closing) {
      if (this.finSent) this.destroy(); // else once our FIN is out
      return;
    }
    // Requests already received are still answered (a half-close is not
    // an abort); pump closes once none is left.
    this.run();
  }

  // ---- output ---------------------------------------------------------------

  private queue(bytes: Buffer): void {
    if (this.outText !== '') {
      this.out.push(Buffer.from(this.outText, 'latin1'));
      this.outText = '';
    }
    this.out.push(bytes);
    this.outBytes += bytes.length;
    this.totalOut += bytes.length;
  }

  /** Queues text whose bytes are its latin1 encoding (one byte per char). */
  private queueText(text: string): void {
    this.outText += text;
    this.outBytes += text.length;
    this.totalOut += text.length;
  }

  /**
   * Serializes `res` for `ex` and queues it (or starts streaming it).
   * A response that cannot be sent as given (not a response object, a
   * status outside 200-599, a header value with CR or LF, a body that
   * fails to open) is replaced by a bare 500. Ignored unless `ex` is in
   * progress and not answered yet.
   */
  private respond(ex: Exchange, res: Response): void {
    if (this.current !== ex || this.ours !== Ours.Handling) {
      if (isResponse(res)) releaseBody(res.body); // answered or abandoned already: let go of what it holds
      return;
    }
    const req = ex.req;
    if (!isResponse(res)) {
      this.reportError(new TypeError(`handler returned an invalid response: ${describe(res)}`), req);
      res = INTERNAL_ERROR;
    }
    // An unread body must be read and discarded or the connection closed.
    // Closing is the choice when the client is still waiting for our
    // `100 Continue` and would otherwise send content we do not want.
    if (!ex.body.complete && req.expectContinue && !ex.continueSent) ex.close = true;
    if (!ex.body.complete && ex.body.requested) {
      ex.body.abort(new Error('response sent before the content was read'));
    }
    this.bodyBlocked = false;
    // Their input has ended and nothing else is pending: this is the last response.
    if (this.finReceived && this.parser.buffered === 0) ex.close = true;
    ex.status = res.status;
    const minor0 = req.minorVersion === 0;
    const noContent = req.method === 'HEAD' || statusHasNoContent(res.status);
    const body = res.body;
    let head: string;
    let bodyBytes = 0;
    let stream: Readable | null = null;
    let chunked = false;
    let declared = -1;
    try {
      if (isStreamBody(body)) {
        let framing: ResponseFraming;
        if (body.length !== undefined) framing = { kind: 'length', length: body.length };
        else if (noContent) framing = { kind: 'none' };
        else if (!minor0) framing = { kind: 'chunked' };
        else {
          framing = { kind: 'close' }; // HTTP/1.0 knows no chunked
          ex.close = true;
        }
        head = serializeHead(res.status, res.headers, framing, ex.close, !ex.close && minor0);
        if (!noContent) {
          stream = body.open();
          chunked = framing.kind === 'chunked';
          if (framing.kind === 'length') declared = framing.length;
        } else {
          body.release?.();
        }
      } else {
        bodyBytes = bodyLength(body);
        const framing: ResponseFraming = { kind: 'length', length: bodyBytes };
        head = serializeHead(res.status, res.headers, framing, ex.close, !ex.close && minor0);
      }
    } catch (e) {
      // Only a bad response from our own code gets here. Nothing is queued
      // yet, so the framing is intact and the connection may persist.
      if (stream === null) releaseBody(body);
      this.reportError(e, req);
      ex.status = 500;
      this.queueText(this.outgoing(serializeHead(500, undefined, { kind: 'length', length: 0 }, ex.close, !ex.close && minor0)));
      this.sent(ex);
      return;
    }
    head = this.outgoing(head);
    if (stream !== null) {
      this.queueText(head);
      this.startStream(ex, stream, chunked, declared, isStreamBody(body) ? body.recycle?.bind(body) : undefined);
      return;
    }
    if (noContent || body === undefined || isStreamBody(body)) this.queueText(head);
    // Text whose UTF-8 length equals its length is ASCII: its latin1 bytes are its UTF-8 bytes.
    else if (typeof body === 'string' && bodyBytes === body.length) this.queueText(head + body);
    else if (typeof body !== 'string' && body.length >= LARGE_BODY) {
      // A large body (a cached file) is queued as is: written with the head in one writev, never copied.
      this.queueText(head);
      this.queue(body);
    } else this.queue(joinHeadAndBody(head, body));
    this.sent(ex);
  }

  /**
   * Sends a stream body with back-pressure, chunk-framed when `chunked`.
   * With a declared length (`declared` ≥ 0 bytes) the bytes are counted: a
   * stream that would send more, or ends with fewer, cuts the connection
   * (as hyper and nginx do), since the framing the client relies on is
   * already wrong; no byte beyond the declared length is ever written.
   * Each chunk the socket is done with goes back to `recycle`, if given.
   */
  private startStream(ex: Exchange, stream: Readable, chunked: boolean, declared: number, recycle: ((chunk: Buffer) => void) | undefined): void {
    this.toOurs(Ours.Sending);
    this.streaming = stream;
    this.flush();
    let written = 0;
    stream.on('data', (chunk: Buffer) => {
      if (this.ours !== Ours.Sending || chunk.length === 0) return;
      if (declared >= 0) {
        written += chunk.length;
        if (written > declared) {
          this.reportError(new Error(`response stream sent more than its declared ${declared} bytes`), ex.req);
          this.destroy();
          return;
        }
      }
      this.totalOut += chunked ? chunk.length + chunkHeader(chunk.length).length + 2 : chunk.length;
      const done = recycle === undefined ? undefined : () => recycle(chunk);
      const ok = chunked
        ? (this.socket.cork(),
          this.socket.write(chunkHeader(chunk.length), 'latin1'),
          this.socket.write(chunk, done),
          this.socket.write('\r\n', 'latin1'))
        : this.socket.write(chunk, done);
      if (chunked) this.socket.uncork();
      this.progress();
      if (!ok) stream.pause();
    });
    stream.once('end', () => {
      if (this.ours !== Ours.Sending) return;
      if (declared >= 0 && written < declared) {
        this.reportError(new Error(`response stream ended after ${written} of its declared ${declared} bytes`), ex.req);
        this.destroy();
        return;
      }
      this.streaming = null;
      if (chunked) this.queueText(LAST_CHUNK);
      try {
        this.sent(ex);
      } catch (e) {
        this.crash(e);
        return;
      }
      this.run();
    });
    stream.once('error', (err) => {
      // The head is gone already: all we can do is cut the connection so
      // the client sees a truncated body rather than a wrong one.
      this.reportError(err, ex.req);
      this.destroy();
    });
  }

  /** The response is handed over; finish the exchange if its content is in too. */
  private sent(ex: Exchange): void {
    this.toOurs(Ours.Sent);
    if (this.onExchange !== undefined) this.report(ex.req, ex.status, ex.startOut, ex.startTime, ex.startMono, false);
    if (this.theirs !== Theirs.Body || ex.close) this.finish();
    // else keep reading (and discarding) the content
  }

  /** The exchange is over on both sides: close, or wait for the next request. */
  private finish(): void {
    const ex = this.current!;
    this.current = null;
    if (ex.close) {
      this.closeGracefully();
      return;
    }
    this.toOurs(Ours.Idle);
    this.toTheirs(this.parser.idle ? Theirs.Idle : Theirs.Head);
    this.setDeadline(this.waitNow()); // a new wait starts now, whatever the last one was
  }

  private flush(): void {
    const out = this.out;
    if ((out.length === 0 && this.outText === '') || this.destroyed) return;
    let ok: boolean;
    if (out.length === 0) {
      // The common case, pipelined batches included: one string, one write, no Buffer.
      ok = this.socket.write(this.outText, 'latin1');
    } else {
      if (this.outText !== '') out.push(Buffer.from(this.outText, 'latin1'));
      if (out.length === 1) ok = this.socket.write(out[0]!);
      else {
        // One writev of every queued Buffer: large bodies are not copied into one.
        this.socket.cork();
        for (let i = 0; i < out.length - 1; i++) this.socket.write(out[i]!);
        ok = this.socket.write(out[out.length - 1]!);
        this.socket.uncork();
      }
      out.length = 0;
    }
    this.outText = '';
    this.outBytes = 0;
    if (!ok) this.writeBlocked = true;
  }

  /**
   * Pauses the socket while input would only pile up: our output is
   * blocked, or unparsed input exceeds {@link MAX_BUFFERED_INPUT}. A
   * closing connection always reads, to discard.
   */
  private updateReading(): void {
    if (this.destroyed) return;
    const pause = !this.closing && (this.writeBlocked || this.parser.buffered >= MAX_BUFFERED_INPUT);
    if (pause === this.readPaused) return;
    this.readPaused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }

  private onDrain(): void {
    if (this.streaming !== null) {
      this.streaming.resume();
      this.progress();
    }
    if (this.writeBlocked) {
      this.writeBlocked = false;
      this.run();
    }
  }

  // ---- errors and closing ----------------------------------------------------

  /**
   * The response for a handler failure: the status of an HttpError (4xx or
   * 5xx, with its fields; it may ask to close), else a bare 500.
   */
  private failureResponse(err: unknown, ex: Exchange): Response {
    if (isHttpError(err)) {
      if (err.closeConnection) ex.close = true;
      return errorResponse(err);
    }
    // The framing is intact, so only this request fails; the body, if
    // any, is discarded and the connection stays usable. A failure after
    // the engine already answered (its content was malformed) is expected.
    if (this.current === ex && this.ours === Ours.Handling) this.reportError(err, ex.req);
    return INTERNAL_ERROR;
  }

  /** A bug in this class or a handler's stream: log it and drop this connection. */
  private crash(err: unknown): void {
    try {
      this.reportError(err, this.current?.req ?? null);
    } finally {
      this.destroy();
    }
  }

  /** A protocol error from the parser: answer it, then close (RFC 9112 §9.6). */
  private failProtocol(err: unknown): void {
    const httpErr = isHttpError(err) ? err : new HttpError(400, 'bad request');
    const ex = this.current;
    if (ex !== null) {
      ex.body.abort(new Error(`request content is malformed: ${httpErr.detail}`));
      if (this.ours !== Ours.Handling) {
        // The answer is written (or streaming) already; the framing is
        // broken, so close once it is out.
        ex.close = true;
        if (this.ours === Ours.Sent) this.finish();
        return;
      }
      // The engine answers instead; whatever the handler still answers is dropped.
    }
    this.sendErrorAndClose(httpErr);
  }

  /** A serialized response head as it goes out: with `Date` when asked (`--date`), and traced (`--trace`). The one place both apply. */
  private outgoing(head: string): string {
    if (this.options.sendDate === true) head = withDate(head, clock());
    if (this.tracer !== undefined) this.traceOut('response', head);
    return head;
  }

  /** Writes an error response with `Connection: close` and closes after it. */
  private sendErrorAndClose(err: HttpError): void {
    if (this.closing) return;
    if (this.ours === Ours.Sending) {
      this.destroy();
      return;
    }
    const res = errorResponse(err);
    const head = this.outgoing(serializeHead(res.status, res.headers, { kind: 'length', length: bodyLength(res.body as string) }, true, false));
    const startOut = this.totalOut;
    this.queue(joinHeadAndBody(head, res.body as string));
    if (this.onExchange !== undefined) {
      const ex = this.current;
      if (ex !== null) this.report(ex.req, res.status, ex.startOut, ex.startTime, ex.startMono, false);
      else this.report(null, res.status, startOut, Date.now(), performance.now(), false);
    }
    this.closeGracefully();
  }

  /**
   * Flushes what is queued, sends FIN once it is written, and then discards
   * input until the peer's FIN (at most {@link LINGER_MS}), so that unread
   * input never turns our close into a reset that destroys the response
   * (RFC 9112 §9.6).
   */
  private closeGracefully(): void {
    if (this.closing) return;
    this.toOurs(Ours.Closing);
    this.current = null;
    this.flush();
    this.updateReading();
    this.sendFin();
    this.arm();
  }

  /** Sends our FIN once everything queued is written, then {@link afterFinish}. */
  private sendFin(): void {
    const socket = this.socket;
    if (END_CLOSES_DESCRIPTOR) {
      socket.write(NOTHING, () => {
        if (this.destroyed) return;
        (socket as unknown as { _handle?: { shutdown?: () => void } })._handle?.shutdown?.();
        this.afterFinish();
      });
      return;
    }
    if (!socket.writableEnded) socket.end();
    if (socket.writableFinished) this.afterFinish();
    else socket.once('finish', () => this.afterFinish());
  }

  /** Our side is fully written and FIN sent: linger for the peer's FIN. */
  private afterFinish(): void {
    this.finSent = true;
    if (this.finReceived) this.destroy();
    else this.arm();
  }

  /**
   * Graceful shutdown of this connection: an idle one closes now; the
   * exchange in progress (or whose head is arriving) is finished and is
   * the last, its response carrying `Connection: close` unless its head is
   * already out (RFC 9112 §9.6). Requests pipelined behind it are not answered.
   */
  drain(): void {
    if (this.draining || this.closing) return;
    this.draining = true;
    try {
      const ex = this.current;
      if (ex !== null) ex.close = true; // read by respond() for the head, and by finish()
      else if (this.theirs === Theirs.Idle && this.parser.idle) this.closeGracefully();
      // else a head is arriving: start() marks its exchange as the last
    } catch (e) {
      this.crash(e);
    }
  }

  /** Hands one exchange to {@link onExchange}; a failing reporter never disturbs the connection. */
  private report(request: RequestHead | null, status: number, startOut: number, startTime: number, startMono: number, aborted: boolean): void {
    try {
      this.onExchange!({ request, status, bytesSent: this.totalOut - startOut, startTime, durationMs: performance.now() - startMono, aborted, connection: this.endsNow() });
    } catch (e) {
      this.reportError(e, null);
    }
  }

  /** The request being answered right now, or `null` between exchanges: what a shutdown waits for. */
  get inFlight(): Request | null {
    return this.current?.req ?? null;
  }

  /** The peer's address and port, as `address:port` (`[v6]:port` for IPv6). */
  get peer(): string {
    const a = this.socket.remoteAddress ?? '?';
    return a.includes(':') ? `[${a}]:${this.socket.remotePort}` : `${a}:${this.socket.remotePort}`;
  }

  /** Closes the socket now, abandoning whatever is in flight. */
  destroy(): void {
    if (this.destroyed) return;
    // A response cut while streaming is still reported, with the bytes that went out.
    const ex = this.current;
    if (this.onExchange !== undefined && ex !== null && this.ours === Ours.Sending) {
      this.report(ex.req, ex.status, ex.startOut, ex.startTime, ex.startMono, true);
    }
    this.ours = Ours.Closed; // from any state
    this.current?.body.abort(new Error('connection closed'));
    this.current = null;
    this.streaming?.destroy();
    this.streaming = null;
    this.socket.destroy();
    this.arm();
  }

  private onSocketClose(): void {
    this.destroy();
    this.onClose(this);
  }

  // ---- timeouts ----------------------------------------------------------------

  /** What the deadline is for, from the two sides (see the state table). */
  private waitNow(): Wait {
    switch (this.ours) {
      case Ours.Closed:
        return Wait.Gone;
      case Ours.Closing:
        // The peer must still read what is queued, then we linger for its FIN.
        return this.finSent ? Wait.Linger : Wait.Transfer;
      case Ours.Idle:
        if (this.writeBlocked) return Wait.Transfer; // the peer is not reading: a transfer stall, not idleness
        return this.theirs === Theirs.Idle ? Wait.Idle : Wait.Head;
      case Ours.Sending:
        return Wait.Transfer;
      default:
        // Handling or Sent: content still coming in is a transfer; else the handler runs.
        return this.theirs === Theirs.Body || this.theirs === Theirs.Ended ? Wait.Transfer : Wait.None;
    }
  }

  /**
   * Sets the deadline for the current state: on entering a wait, from now;
   * a transfer's deadline moves only with progress ({@link progress}), the
   * head's runs from its first byte however slowly the rest trickles in.
   */
  private arm(): void {
    const wait = this.waitNow();
    if (wait === this.wait) return;
    this.setDeadline(wait);
  }

  /** Data moved in either direction: a transfer's deadline starts again. */
  private progress(): void {
    const wait = this.waitNow();
    if (wait === Wait.Transfer || wait !== this.wait) this.setDeadline(wait);
  }

  private setDeadline(wait: Wait): void {
    const o = this.options;
    this.wait = wait;
    switch (wait) {
      case Wait.None:
      case Wait.Gone:
        this.deadline = 0;
        break;
      case Wait.Idle:
        this.deadline = clock() + o.keepAliveTimeout;
        break;
      case Wait.Head:
        this.deadline = clock() + o.headersTimeout;
        break;
      case Wait.Transfer:
        this.deadline = clock() + o.bodyTimeout;
        break;
      case Wait.Linger:
        this.deadline = clock() + LINGER_MS;
        break;
    }
  }

  /** Called by the server's sweeper at `now` (ms since epoch) once the deadline is past. */
  expire(now: number): void {
    if (this.deadline === 0 || now < this.deadline || this.destroyed) return;
    try {
      switch (this.wait) {
        case Wait.Idle:
          this.closeGracefully();
          break;
        case Wait.Head:
          // Slowloris: the header section did not arrive in time (RFC 9110 §15.5.9).
          this.toTheirs(Theirs.Error);
          this.sendErrorAndClose(new HttpError(408, 'header section not received in time'));
          break;
        case Wait.Transfer: {
          const ex = this.current;
          if (ex !== null && this.ours === Ours.Handling && !this.writeBlocked) {
            // Their content stalled while the handler waits for it.
            ex.body.abort(new Error('request content timed out'));
            if (this.theirs === Theirs.Body) this.toTheirs(Theirs.Error); // Ended already, if their FIN came
            this.sendErrorAndClose(new HttpError(408, 'request content not received in time'));
          } else {
            this.destroy(); // the peer stopped reading our response, or discarding stalled
          }
          break;
        }
        default:
          this.destroy();
      }
      this.updateReading();
      this.arm();
    } catch (e) {
      this.crash(e);
    }
  }
}

/** True for a response object a handler may return: status 200-599. */
function isResponse(res: unknown): res is Response {
  if (typeof res !== 'object' || res === null) return false;
  const status = (res as Response).status;
  return Number.isInteger(status) && status >= 200 && status <= 599;
}

function describe(value: unknown): string {
  if (typeof value !== 'object' || value === null) return String(value);
  return `object with status ${String((value as { status?: unknown }).status)}`;
}

/** The response for an {@link HttpError}: its status, its detail as text. */
export function errorResponse(err: HttpError): Response {
  return {
    status: err.status,
    headers: { ...err.headers, ...TEXT_PLAIN },
    body: `${err.detail}\n`,
  };
}
