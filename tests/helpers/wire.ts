/**
 * A raw TCP client that speaks HTTP/1.1 the way the CodeCrafters tester
 * does: it writes exact bytes and reads responses framed by
 * `Content-Length` (or chunked, for tests that ask), byte for byte.
 */

import net from 'node:net';

/** A response as read off the wire. */
export interface WireResponse {
  /** e.g. `"HTTP/1.1 200 OK"` */
  statusLine: string;
  status: number;
  /** Header fields in order, names as sent. */
  fieldLines: [string, string][];
  /** Case-insensitive lookup of a single field (last one wins). */
  header(name: string): string | undefined;
  /** The content bytes (de-chunked if the response was chunked). */
  body: Buffer;
  /** The raw bytes of the head, CRLFs included. */
  rawHead: string;
}

export class RawClient {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private ended = false;
  private error: Error | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', (e) => {
      this.error = e;
      this.ended = true;
      this.wake();
    });
  }

  /** Connects to `host:port`. */
  static connect(port: number, host = '127.0.0.1'): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private waitForData(deadline: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('timed out waiting for bytes from the server')), Math.max(0, deadline - Date.now()));
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  /** Writes raw bytes (a string is sent as latin1). */
  send(data: string | Buffer): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /** Bytes received and not yet consumed by a read. */
  get pending(): Buffer {
    return this.buf;
  }

  /** True once the server has closed its side (or the socket errored). */
  get closedByServer(): boolean {
    return this.ended;
  }

  /**
   * Reads exactly one response. The content is framed by Content-Length,
   * or by chunked coding, or (for neither) read until the server closes.
   * @param opts.head the request was HEAD: a response has no content.
   * @throws Error on a malformed response or a timeout.
   */
  async readResponse(opts: { head?: boolean; timeoutMs?: number } = {}): Promise<WireResponse> {
    const deadline = Date.now() + (opts.timeoutMs ?? 5000);
    let headEnd: number;
    while ((headEnd = this.buf.indexOf('\r\n\r\n')) === -1) {
      if (this.ended) throw new Error(`connection closed before a complete head; got ${JSON.stringify(this.buf.toString('latin1'))}`);
      await this.waitForData(deadline);
    }
    const rawHead = this.buf.subarray(0, headEnd + 4).toString('latin1');
    const lines = rawHead.slice(0, -4).split('\r\n');
    const statusLine = lines[0]!;
    const m = /^HTTP\/1\.1 (\d{3}) (.*)$/.exec(statusLine);
    if (m === null) throw new Error(`malformed status-line ${JSON.stringify(statusLine)}`);
    const fieldLines: [string, string][] = lines.slice(1).map((l) => {
      const c = l.indexOf(':');
      if (c <= 0) throw new Error(`malformed field line ${JSON.stringify(l)}`);
      return [l.slice(0, c), l.slice(c + 1).trim()];
    });
    const header = (name: string) => {
      let v: string | undefined;
      for (const [k, val] of fieldLines) if (k.toLowerCase() === name.toLowerCase()) v = val;
      return v;
    };
    this.buf = this.buf.subarray(headEnd + 4);
    const status = Number(m[1]);
    let body: Buffer;
    const noContent = opts.head === true || status < 200 || status === 204 || status === 304;
    const cl = header('content-length');
    if (noContent) {
      body = Buffer.alloc(0);
    } else if (header('transfer-encoding')?.toLowerCase() === 'chunked') {
      body = await this.readChunked(deadline);
    } else if (cl !== undefined) {
      const n = Number(cl);
      while (this.buf.length < n) {
        if (this.ended) throw new Error(`connection closed after ${this.buf.length} of ${n} content bytes`);
        await this.waitForData(deadline);
      }
      body = this.buf.subarray(0, n);
      this.buf = this.buf.subarray(n);
    } else {
      while (!this.ended) await this.waitForData(deadline);
      body = this.buf;
      this.buf = Buffer.alloc(0);
    }
    return { statusLine, status, fieldLines, header, body: Buffer.from(body), rawHead };
  }

  private async readChunked(deadline: number): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      let lf: number;
      while ((lf = this.buf.indexOf('\r\n')) === -1) {
        if (this.ended) throw new Error('connection closed inside chunked content');
        await this.waitForData(deadline);
      }
      const size = parseInt(this.buf.subarray(0, lf).toString('latin1'), 16);
      if (Number.isNaN(size)) throw new Error('bad chunk-size from server');
      this.buf = this.buf.subarray(lf + 2);
      if (size === 0) {
        while (this.buf.indexOf('\r\n') !== 0) {
          if (this.ended) throw new Error('connection closed inside trailer');
          await this.waitForData(deadline);
        }
        this.buf = this.buf.subarray(2);
        return Buffer.concat(parts);
      }
      while (this.buf.length < size + 2) {
        if (this.ended) throw new Error('connection closed inside a chunk');
        await this.waitForData(deadline);
      }
      parts.push(Buffer.from(this.buf.subarray(0, size)));
      this.buf = this.buf.subarray(size + 2);
    }
  }

  /**
   * Resolves once the server closes the connection; rejects after
   * `timeoutMs`, or if unread bytes remain when it closes.
   */
  async expectClosed(timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.ended) await this.waitForData(deadline);
    if (this.buf.length > 0) throw new Error(`unread bytes before close: ${JSON.stringify(this.buf.toString('latin1'))}`);
  }

  /**
   * Asserts the connection is still open and silent for `ms`: no stray
   * bytes after the last response, and no close.
   */
  async expectOpenAndQuiet(ms = 200): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    if (this.buf.length > 0) throw new Error(`unexpected bytes: ${JSON.stringify(this.buf.toString('latin1'))}`);
    if (this.ended) throw new Error(`connection was closed${this.error ? ` (${this.error.message})` : ''}`);
  }

  /** Closes our side and frees the socket. */
  close(): void {
    this.socket.destroy();
  }
}

/** Sends one request on a new connection and reads one response. */
export async function request(port: number, raw: string | Buffer, opts: { head?: boolean } = {}): Promise<WireResponse> {
  const c = await RawClient.connect(port);
  try {
    c.send(raw);
    return await c.readResponse(opts);
  } finally {
    c.close();
  }
}
