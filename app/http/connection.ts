/**
 * One HTTP/1.1 connection: the only module that touches a socket.
 *
 * Bytes from the socket go into the {@link RequestParser}; each request is
 * handed to the handler; responses go out in request order, coalesced into
 * one write when several are ready at once (pipelining). Exchanges are
 * served one at a time, so "in order" holds by construction. Persistence
 * follows RFC 9112 §9.3; timeouts and back-pressure keep a slow or hostile
 * peer from holding memory or the process.
 */

import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import { HttpError, isHttpError } from './errors.js';
import { type ParserLimits, RequestParser } from './parser.js';
import { type Request, RequestBody } from './request.js';
import {
  type Handler,
  type Response,
  type ResponseFraming,
  LAST_CHUNK,
  bodyLength,
  chunkHeader,
  isStreamBody,
  joinHeadAndBody,
  serializeHead,
} from './response.js';

/** Timeouts in milliseconds. */
export interface Timeouts {
  /** From the first byte of a request to the end of its header section; then 408 (slowloris). */
  headersTimeout: number;
  /** An idle persistent connection is closed after this long (RFC 9112 §9.5). */
  keepAliveTimeout: number;
  /** Longest pause while receiving content, or while the peer is not reading our response. */
  bodyTimeout: number;
}

export interface ConnectionOptions extends ParserLimits, Timeouts {}

/** Called with every handler failure that became a 500, for logging. */
export type ErrorReporter = (err: unknown, req: Request | null) => void;

const enum Wait {
  /** Nothing is due: a handler is running. */
  None,
  /** Between requests. */
  Idle,
  /** Reading a header section. */
  Head,
  /** Reading content, or waiting for the peer to read ours. */
  Transfer,
  /** Closing: waiting for the peer's FIN. */
  Closing,
}

/** How long a closing connection waits for the peer to close, in ms. */
const LINGER_MS = 2000;
const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** One request/response exchange in progress. */
interface Exchange {
  readonly req: Request;
  readonly body: RequestBody;
  responded: boolean;
  /** The response is fully handed to the socket. */
  sent: boolean;
  /** Close the connection after this exchange. */
  close: boolean;
  continueSent: boolean;
}

/**
 * Serves HTTP/1.1 on one accepted socket until either side closes it.
 * Never throws: every failure becomes a response or a close.
 */
export class Connection {
  private readonly parser: RequestParser;
  private current: Exchange | null = null;
  private readonly out: Buffer[] = [];
  /** The socket's buffer is full: stop taking requests until 'drain'. */
  private writeBlocked = false;
  /** A body reader is behind: stop feeding it until it asks again. */
  private bodyBlocked = false;
  private streaming: Readable | null = null;
  private closing = false;
  private destroyed = false;
  private peerEnded = false;
  /** What the deadline is for, and when it passes (ms since epoch). */
  private wait = Wait.Idle;
  deadline = 0;

  constructor(
    private readonly socket: Socket,
    private readonly handler: Handler<Request>,
    private readonly options: ConnectionOptions,
    private readonly reportError: ErrorReporter,
    private readonly onClose: (c: Connection) => void,
  ) {
    this.parser = new RequestParser(options);
    socket.setNoDelay(true);
    this.setWait(Wait.Idle);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.onDrain());
    socket.on('end', () => this.onPeerEnd());
    socket.on('error', () => this.destroy());
    socket.on('close', () => this.onSocketClose());
  }

  // ---- input ----------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.closing) return; // discarding until the peer closes
    this.parser.push(chunk);
    this.pump();
    this.flush();
  }

  /**
   * Pulls parser events while the connection can act on them: no handler
   * pending between messages, no full write buffer, no reader behind.
   */
  private pump(): void {
    for (;;) {
      if (this.closing || this.destroyed || this.bodyBlocked) return;
      const ex = this.current;
      if (ex !== null && ex.body.complete) return; // waiting for the response
      if (ex === null && (this.writeBlocked || this.streaming !== null)) return;
      let ev;
      try {
        ev = this.parser.next();
      } catch (e) {
        this.failProtocol(e as HttpError);
        return;
      }
      if (ev === null) {
        if (this.parser.idle) {
          if (ex === null) {
            if (this.peerEnded) this.closeGracefully();
            else this.setWait(Wait.Idle);
          }
        } else if (ex === null && this.wait !== Wait.Head) {
          this.setWait(Wait.Head);
        }
        return;
      }
      switch (ev.type) {
        case 'head':
          this.start(ev.head as Request);
          break;
        case 'data':
          this.setWait(Wait.Transfer);
          if (ex!.responded) break; // answered without reading: discard
          if (!ex!.body.push(ev.data)) this.bodyBlocked = true;
          break;
        case 'end':
          ex!.body.end();
          if (ex!.sent) this.finish(ex!);
          else this.setWait(Wait.None);
          break;
      }
    }
  }

  private start(head: Request): void {
    const req = head as Request & { body: RequestBody };
    const body = new RequestBody(
      head.framing === 'none' ? 0 : head.framing === 'content-length' ? head.contentLength : undefined,
      () => this.onBodyDemand(),
    );
    req.body = body;
    const ex: Exchange = { req, body, responded: false, sent: false, close: !head.keepAlive, continueSent: false };
    this.current = ex;
    this.setWait(body.present ? Wait.Transfer : Wait.None);
    let res: Response | Promise<Response>;
    try {
      res = this.handler(req);
    } catch (e) {
      this.respond(ex, this.internalError(e, req));
      return;
    }
    if (res instanceof Promise) {
      res.then(
        (r) => this.respondLater(ex, r),
        (e) => this.respondLater(ex, this.internalError(e, req)),
      );
    } else {
      this.respond(ex, res);
    }
  }

  private respondLater(ex: Exchange, res: Response): void {
    if (this.destroyed) return;
    this.respond(ex, res);
    this.pump();
    this.flush();
  }

  /** A handler asked for content: resume the socket, owe no more `100 Continue`. */
  private onBodyDemand(): void {
    const ex = this.current;
    if (ex === null || this.destroyed) return;
    if (ex.req.expectContinue && !ex.continueSent && !ex.responded) {
      ex.continueSent = true;
      this.out.push(CONTINUE);
    }
    if (this.bodyBlocked) this.bodyBlocked = false;
    this.pump();
    this.flush();
  }

  private onPeerEnd(): void {
    this.peerEnded = true;
    if (this.closing) {
      this.destroy();
    } else if (this.current === null) {
      // Between requests a FIN means goodbye; inside a head it truncates it.
      if (this.parser.idle) this.closeGracefully();
      else this.destroy();
    } else if (!this.current.body.complete) {
      this.current.body.abort(new Error('client closed before sending all content'));
      this.destroy();
    } else {
      this.current.close = true;
    }
  }

  // ---- output ---------------------------------------------------------------

  private respond(ex: Exchange, res: Response): void {
    if (ex.responded || this.destroyed) return;
    ex.responded = true;
    const req = ex.req;
    // An unread body must be read and discarded or the connection closed.
    // Closing is the choice when the client is still waiting for our
    // `100 Continue` and would otherwise send content we do not want.
    if (!ex.body.complete && ex.req.expectContinue && !ex.continueSent) ex.close = true;
    if (!ex.body.complete && ex.body.requested) {
      ex.body.abort(new Error('response sent before the content was read'));
    }
    if (this.bodyBlocked) this.bodyBlocked = false;
    const close = ex.close || this.peerEnded;
    const isHead = req.method === 'HEAD';
    const body = res.body;
    let head: string;
    try {
      if (isStreamBody(body)) {
        let framing: ResponseFraming;
        if (body.length !== undefined) framing = { kind: 'length', length: body.length };
        else if (isHead) framing = { kind: 'none' };
        else if (req.minorVersion === 1) framing = { kind: 'chunked' };
        else {
          framing = { kind: 'close' };
          ex.close = true;
        }
        head = serializeHead(res.status, res.headers, framing, close || framing.kind === 'close', !close && req.minorVersion === 0);
        if (isHead) {
          this.out.push(Buffer.from(head, 'latin1'));
          this.sent(ex);
          return;
        }
        this.out.push(Buffer.from(head, 'latin1'));
        this.startStream(ex, body.open(), framing.kind === 'chunked');
        return;
      }
      const framing: ResponseFraming = { kind: 'length', length: bodyLength(body) };
      head = serializeHead(res.status, res.headers, framing, close, !close && req.minorVersion === 0);
    } catch (e) {
      // Only a bad header from our own code gets here.
      this.reportError(e, req);
      head = serializeHead(500, undefined, { kind: 'length', length: 0 }, true, false);
      ex.close = true;
      this.out.push(Buffer.from(head, 'latin1'));
      this.sent(ex);
      return;
    }
    this.out.push(joinHeadAndBody(head, isHead ? undefined : body));
    this.sent(ex);
  }

  /** Sends a stream body with back-pressure, chunk-framed when `chunked`. */
  private startStream(ex: Exchange, stream: Readable, chunked: boolean): void {
    this.streaming = stream;
    this.flush();
    this.setWait(Wait.Transfer);
    stream.on('data', (chunk: Buffer) => {
      if (this.destroyed) return;
      if (chunk.length === 0) return;
      const ok = chunked
        ? (this.socket.cork(),
          this.socket.write(chunkHeader(chunk.length), 'latin1'),
          this.socket.write(chunk),
          this.socket.write('\r\n', 'latin1'))
        : this.socket.write(chunk);
      if (chunked) this.socket.uncork();
      this.setWait(Wait.Transfer);
      if (!ok) stream.pause();
    });
    stream.once('end', () => {
      if (this.destroyed) return;
      this.streaming = null;
      if (chunked) this.out.push(Buffer.from(LAST_CHUNK, 'latin1'));
      this.sent(ex);
      this.pump();
      this.flush();
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
    ex.sent = true;
    if (ex.body.complete || ex.close) this.finish(ex);
    else this.setWait(Wait.Transfer); // keep reading (and discarding) the content
  }

  private finish(ex: Exchange): void {
    if (this.current !== ex) return;
    this.current = null;
    if (ex.close || this.peerEnded) {
      this.closeGracefully();
      return;
    }
    this.setWait(this.parser.idle ? Wait.Idle : Wait.Head);
  }

  private flush(): void {
    const out = this.out;
    if (out.length === 0 || this.destroyed) return;
    let ok: boolean;
    if (out.length === 1) {
      ok = this.socket.write(out[0]!);
    } else {
      ok = this.socket.write(Buffer.concat(out));
    }
    out.length = 0;
    if (!ok && !this.writeBlocked) {
      this.writeBlocked = true;
      this.socket.pause();
    }
    if (this.closing && !this.socket.writableEnded) this.socket.end();
  }

  private onDrain(): void {
    if (this.streaming !== null) {
      this.streaming.resume();
      this.setWait(Wait.Transfer);
    }
    if (this.writeBlocked) {
      this.writeBlocked = false;
      if (!this.closing) this.socket.resume();
      this.pump();
      this.flush();
    }
  }

  // ---- errors and closing ----------------------------------------------------

  private internalError(err: unknown, req: Request): Response {
    if (isHttpError(err)) {
      const ex = this.current;
      if (ex !== null) ex.close = err.closeConnection || ex.close;
      return errorResponse(err);
    }
    this.reportError(err, req);
    const ex = this.current;
    if (ex !== null) ex.close = true;
    return { status: 500, headers: { 'Content-Type': 'text/plain' }, body: 'internal server error\n' };
  }

  /** A protocol error from the parser: answer it, then close (RFC 9112 §9.6). */
  private failProtocol(err: unknown): void {
    const httpErr = isHttpError(err) ? err : new HttpError(400, 'bad request');
    const ex = this.current;
    if (ex !== null) {
      ex.body.abort(new Error(`request content is malformed: ${httpErr.detail}`));
      if (ex.responded) {
        // The answer is written already; the framing is broken, so close.
        this.closeGracefully();
        return;
      }
      this.current = null;
    }
    this.sendErrorAndClose(httpErr);
  }

  /** Writes an error response with `Connection: close` and closes after it. */
  private sendErrorAndClose(err: HttpError): void {
    if (this.streaming !== null || this.destroyed) {
      this.destroy();
      return;
    }
    const res = errorResponse(err);
    const head = serializeHead(res.status, res.headers, { kind: 'length', length: bodyLength(res.body as string) }, true, false);
    this.out.push(joinHeadAndBody(head, res.body as string));
    this.closeGracefully();
  }

  /**
   * Flushes what is queued, sends FIN, and waits briefly for the peer's
   * FIN while discarding its input, so that a response is not lost to a
   * reset (RFC 9112 §9.6).
   */
  private closeGracefully(): void {
    if (this.closing || this.destroyed) return;
    this.closing = true;
    this.current = null;
    this.setWait(Wait.Closing);
    this.flush();
    if (!this.socket.writableEnded) this.socket.end();
    this.socket.resume();
    if (this.peerEnded) this.destroySoon();
  }

  private destroySoon(): void {
    if (this.socket.writableFinished) this.destroy();
    else this.socket.once('finish', () => this.destroy());
  }

  /** Closes the socket now, abandoning whatever is in flight. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.closing = true;
    this.current?.body.abort(new Error('connection closed'));
    this.streaming?.destroy();
    this.streaming = null;
    this.socket.destroy();
  }

  private onSocketClose(): void {
    this.destroy();
    this.onClose(this);
  }

  // ---- timeouts ----------------------------------------------------------------

  private setWait(wait: Wait): void {
    const o = this.options;
    this.wait = wait;
    switch (wait) {
      case Wait.None:
        this.deadline = 0;
        break;
      case Wait.Idle:
        this.deadline = Date.now() + o.keepAliveTimeout;
        break;
      case Wait.Head:
        this.deadline = Date.now() + o.headersTimeout;
        break;
      case Wait.Transfer:
        this.deadline = Date.now() + o.bodyTimeout;
        break;
      case Wait.Closing:
        this.deadline = Date.now() + LINGER_MS;
        break;
    }
  }

  /** Called by the server's sweeper at `now` (ms since epoch) once the deadline is past. */
  expire(now: number): void {
    if (this.deadline === 0 || now < this.deadline || this.destroyed) return;
    switch (this.wait) {
      case Wait.Idle:
        this.closeGracefully();
        break;
      case Wait.Head:
        this.sendErrorAndClose(new HttpError(408, 'header section not received in time'));
        this.flush();
        break;
      case Wait.Transfer:
        if (this.current !== null && !this.current.responded && this.streaming === null) {
          this.current.body.abort(new Error('request content timed out'));
          this.current = null;
          this.sendErrorAndClose(new HttpError(408, 'request content not received in time'));
          this.flush();
        } else {
          this.destroy();
        }
        break;
      default:
        this.destroy();
    }
  }
}

/** The response for an {@link HttpError}: its status, its detail as text. */
export function errorResponse(err: HttpError): Response {
  return {
    status: err.status,
    headers: { ...err.headers, 'Content-Type': 'text/plain' },
    body: `${err.detail}\n`,
  };
}
