/**
 * A strict, synchronous reader of everything a server sent on one
 * connection: a sequence of complete HTTP/1.1 responses (RFC 9112 §4, §6),
 * nothing before, between or after them.
 */

/** One response as read from the byte stream. */
export interface ParsedResponse {
  status: number;
  /** Field lines, names lower-cased. */
  fields: [string, string][];
  body: Buffer;
}

const STATUS_LINE = /^HTTP\/1\.1 [1-5]\d\d [\t !-~]*$/;
const FIELD_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+): ?([\t !-~]*)$/;

function field(fields: [string, string][], name: string): string | undefined {
  return fields.find(([n]) => n === name)?.[1];
}

/**
 * Splits `bytes` into responses.
 * @throws Error naming the first thing that is not a well-formed response:
 *   a bad status-line or field line, missing framing, a short body, or
 *   stray bytes.
 */
export function parseResponses(bytes: Buffer): ParsedResponse[] {
  const out: ParsedResponse[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const headEnd = bytes.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd === -1) throw new Error(`incomplete head: ${JSON.stringify(bytes.subarray(pos, pos + 200).toString('latin1'))}`);
    const lines = bytes.toString('latin1', pos, headEnd).split('\r\n');
    if (!STATUS_LINE.test(lines[0]!)) throw new Error(`bad status-line ${JSON.stringify(lines[0])}`);
    const status = Number(lines[0]!.slice(9, 12));
    const fields: [string, string][] = lines.slice(1).map((l) => {
      const m = FIELD_LINE.exec(l);
      if (m === null) throw new Error(`bad field line ${JSON.stringify(l)}`);
      return [m[1]!.toLowerCase(), m[2]!];
    });
    pos = headEnd + 4;
    const cl = field(fields, 'content-length');
    const te = field(fields, 'transfer-encoding');
    let body: Buffer;
    if (status < 200 || status === 204 || status === 304) {
      if (cl !== undefined || te !== undefined) throw new Error(`${status} with framing fields`);
      body = Buffer.alloc(0);
    } else if (te !== undefined) {
      if (cl !== undefined) throw new Error('both Content-Length and Transfer-Encoding');
      if (te !== 'chunked') throw new Error(`Transfer-Encoding ${te}`);
      const parts: Buffer[] = [];
      for (;;) {
        const lf = bytes.indexOf('\r\n', pos, 'latin1');
        if (lf === -1) throw new Error('incomplete chunk-size line');
        const size = Number.parseInt(bytes.toString('latin1', pos, lf), 16);
        if (!/^[0-9a-f]+$/i.test(bytes.toString('latin1', pos, lf))) throw new Error('bad chunk-size');
        pos = lf + 2;
        if (size === 0) {
          if (bytes.toString('latin1', pos, pos + 2) !== '\r\n') throw new Error('bad trailer section');
          pos += 2;
          break;
        }
        if (bytes.length < pos + size + 2) throw new Error('incomplete chunk');
        parts.push(bytes.subarray(pos, pos + size));
        if (bytes.toString('latin1', pos + size, pos + size + 2) !== '\r\n') throw new Error('chunk without CRLF');
        pos += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (cl !== undefined) {
      if (!/^\d+$/.test(cl)) throw new Error(`bad Content-Length ${cl}`);
      const n = Number(cl);
      if (bytes.length < pos + n) throw new Error(`short body: ${bytes.length - pos} of ${n}`);
      body = bytes.subarray(pos, pos + n);
      pos += n;
    } else {
      throw new Error(`${status} without framing`);
    }
    out.push({ status, fields, body });
  }
  return out;
}

/** The value of field `name` (lower-case) in a parsed response. */
export function responseField(res: ParsedResponse, name: string): string | undefined {
  return field(res.fields, name);
}
