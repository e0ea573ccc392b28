/**
 * The request a handler sees: the parsed head and a stream of its content.
 */

import { Readable } from 'node:stream';
import type { ConnectionEnds } from './connection.js';
import type { RequestHead } from './parser.js';

/** A request as handed to a route handler. */
export interface Request extends RequestHead {
  /** The request content (RFC 9110 §6.4), already de-chunked. */
  readonly body: RequestBody;
  /**
   * The addresses of the connection it arrived on (the peer may be a proxy
   * in front of the client): what a policy keyed by client needs, such as
   * throttling failed logins. Set by the connection; absent only in
   * requests a unit test builds by hand.
   */
  readonly connection?: ConnectionEnds;
}

/**
 * The content of a request as a one-shot byte stream. The connection
 * pushes de-framed bytes in; the handler reads them with {@link stream} or
 * {@link bytes}. Reading is what triggers `100 Continue` for a client that
 * sent `Expect: 100-continue` (RFC 9110 §10.1.1), so a handler that never
 * reads the body never asks the client to send it.
 */
export class RequestBody {
  private readable: Readable | null = null;
  private started = false;
  /** Bytes pushed in so far. */
  received = 0;
  /** True once the last byte of the content has been pushed. */
  complete: boolean;

  /**
   * @param length the content length in bytes when known from
   *   `Content-Length`, `undefined` for chunked content, 0 for none.
   * @param onDemand called when the handler wants (more) bytes; the
   *   connection answers by resuming the socket and sending
   *   `100 Continue` if it is owed.
   */
  constructor(
    readonly length: number | undefined,
    private readonly onDemand: () => void,
  ) {
    this.complete = length === 0;
  }

  /** True when the request has content to read (any framing but none). */
  get present(): boolean {
    return this.length !== 0;
  }

  /** True once a handler has asked for the content. */
  get requested(): boolean {
    return this.started;
  }

  /**
   * The content as a Readable of Buffers, ending after the last byte. Fails
   * with an error if the client disconnects or the framing breaks midway.
   * Call at most once.
   */
  stream(): Readable {
    if (this.readable === null) {
      const self = this;
      this.readable = new Readable({
        highWaterMark: 64 * 1024,
        read() {
          self.started = true;
          self.onDemand();
        },
      });
      // A reader sees errors through its own listener (pipeline, for await);
      // this one keeps an unread body that aborts (client gone) from
      // crashing the process with an unhandled 'error' event.
      this.readable.on('error', () => undefined);
      if (this.complete && this.received === 0) this.readable.push(null);
    }
    return this.readable;
  }

  /**
   * Reads the whole content into one Buffer.
   * @param limit most bytes accepted; more rejects with a RangeError.
   */
  async bytes(limit = Number.MAX_SAFE_INTEGER): Promise<Buffer> {
    const parts: Buffer[] = [];
    let n = 0;
    for await (const chunk of this.stream()) {
      n += (chunk as Buffer).length;
      if (n > limit) throw new RangeError(`request content exceeds ${limit} bytes`);
      parts.push(chunk as Buffer);
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  /**
   * Connection side: delivers bytes (a view into a socket chunk, which
   * Node and Bun never reuse). @returns false when the reader is behind and the
   * connection should stop reading the socket until `onDemand` fires.
   */
  push(data: Buffer): boolean {
    this.received += data.length;
    if (this.readable === null) this.stream();
    return this.readable!.push(data);
  }

  /** Connection side: the content is complete. */
  end(): void {
    this.complete = true;
    if (this.readable !== null) this.readable.push(null);
  }

  /** Connection side: the content will never complete (disconnect, timeout, bad framing). */
  abort(reason: Error): void {
    if (this.complete) return;
    if (this.readable === null) this.stream();
    this.readable!.destroy(reason);
  }
}
