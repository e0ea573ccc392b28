/**
 * Transfer-Encoding and request smuggling: CL.TE, TE.CL and TE.TE
 * obfuscations (RFC 9112 §6.1, §6.3; the request-smuggling literature:
 * Linhart et al. 2005, Kettle 2019). Anything that two parsers could
 * frame differently is refused with 400 (or 501 for a coding we do not
 * implement) and the connection closed.
 */

import { type Case, HOST, post, raw } from './case';

/** A valid chunked body: "hello". */
const HELLO = '5\r\nhello\r\n0\r\n\r\n';
/** A request hidden after a last-chunk, for a CL-framing peer to see as content. */
const SMUGGLED = raw('GET /echo/smuggled HTTP/1.1');

const te = (name: string, value: string, status = 400): Case => ({
  name,
  send: post([`Transfer-Encoding: ${value}`], HELLO),
  status,
  close: true,
});
const chunked = (name: string, fields: string[]): Case => ({
  name,
  send: post(fields, HELLO),
  status: 201,
  close: false,
  stored: 'hello',
});

export const transferEncodingCases: readonly Case[] = [
  chunked('Transfer-Encoding: chunked', ['Transfer-Encoding: chunked']),
  chunked('upper-case CHUNKED (codings are case-insensitive)', ['Transfer-Encoding: CHUNKED']),
  chunked('mixed-case field-name and coding', ['tRaNsFeR-eNcOdInG: ChUnKeD']),
  chunked('OWS around the coding', ['Transfer-Encoding: \t chunked \t']),
  chunked('an empty list member before chunked (RFC 9110 §5.6.1)', ['Transfer-Encoding: , chunked']),

  // CL.TE and TE.CL: both framings present (§6.3 item 3).
  {
    name: 'CL.TE: Content-Length then Transfer-Encoding',
    send: post(['Content-Length: 6', 'Transfer-Encoding: chunked'], `0\r\n\r\n${SMUGGLED}`),
    status: 400,
    close: true,
  },
  {
    name: 'TE.CL: Transfer-Encoding then Content-Length',
    send: post(['Transfer-Encoding: chunked', 'Content-Length: 4'], `${SMUGGLED.length.toString(16)}\r\n${SMUGGLED}\r\n0\r\n\r\n`),
    status: 400,
    close: true,
  },
  {
    name: 'TE with Content-Length: 0',
    send: post(['Transfer-Encoding: chunked', 'Content-Length: 0'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'TE with a Content-Length in odd case',
    send: post(['Transfer-Encoding: chunked', 'content-LENGTH: 5'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'TE with an invalid Content-Length',
    send: post(['Transfer-Encoding: chunked', 'Content-Length: x'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'TE and CL on a GET',
    send: raw('GET /echo/x HTTP/1.1', [HOST, 'Content-Length: 5', 'Transfer-Encoding: chunked'], HELLO),
    status: 400,
    close: true,
  },

  // TE.TE: obfuscated codings that one parser may read as chunked and another not.
  te('xchunked', 'xchunked'),
  te('chunkedx', 'chunkedx'),
  te('chunked-false', 'chunked-false'),
  te('"chunked" quoted', '"chunked"'),
  te('chunked with a parameter', 'chunked;q=1'),
  te('chunked, identity (chunked not final)', 'chunked, identity'),
  te('chunked, gzip (chunked not final)', 'chunked, gzip'),
  te('identity alone', 'identity'),
  te('gzip alone: length unknowable (§6.3 item 4)', 'gzip'),
  te('chunked twice (§6.1)', 'chunked, chunked'),
  te('an empty Transfer-Encoding value', ''),
  te('only commas', ', ,'),
  te('a vertical tab before chunked', '\x0bchunked'),
  te('a form feed after chunked', 'chunked\x0c'),
  te('a NUL after chunked', 'chunked\0'),
  te('chunked with obs-text', 'chunk\xe9d'),
  te('a space inside the coding', 'chun ked'),
  te('gzip, chunked: a coding we do not implement is 501 (§6.1)', 'gzip, chunked', 501),
  te('deflate, chunked is 501', 'deflate, chunked', 501),
  te('identity, chunked is 501', 'identity, chunked', 501),
  te('an unknown coding before chunked is 501', 'foo, chunked', 501),
  te('a malformed coding before chunked', 'f@o, chunked'),
  {
    name: 'TE on two lines: chunked, then identity',
    send: post(['Transfer-Encoding: chunked', 'Transfer-Encoding: identity'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'TE on two lines: chunked twice',
    send: post(['Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'TE on two lines: gzip, then chunked is 501',
    send: post(['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked'], HELLO),
    status: 501,
    close: true,
  },
  {
    name: 'TE on two lines, the last one empty (a last-line-wins parser sees no TE)',
    send: post(['Transfer-Encoding: chunked', 'Transfer-Encoding:'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'SP before the colon of Transfer-Encoding',
    send: post(['Transfer-Encoding : chunked'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'HTAB before the colon of Transfer-Encoding',
    send: post(['Transfer-Encoding\t: chunked'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'Transfer-Encoding folded onto the next line (obs-fold)',
    send: post(['Transfer-Encoding:', ' chunked'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'a folded line making Transfer-Encoding look like a value',
    send: post(['X-Ignore: x', ' Transfer-Encoding: chunked'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'a bare CR hiding Transfer-Encoding inside another field',
    send: post(['X-Ignore: x\rTransfer-Encoding: chunked'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'a bare LF splitting a field line into Transfer-Encoding',
    send: post(['X-Ignore: x\nTransfer-Encoding: chunked'], HELLO),
    status: 400,
    close: true,
  },
  {
    name: 'Transfer-Encoding on HTTP/1.0 (§6.1)',
    send: post(['Transfer-Encoding: chunked'], HELLO, 'HTTP/1.0'),
    status: 400,
    close: true,
  },
  {
    name: 'Transfer-Encoding and keep-alive on HTTP/1.0',
    send: post(['Connection: keep-alive', 'Transfer-Encoding: chunked'], HELLO, 'HTTP/1.0'),
    status: 400,
    close: true,
  },
  {
    name: 'chunked content on a GET is read and discarded',
    send: raw('GET /echo/g HTTP/1.1', [HOST, 'Transfer-Encoding: chunked'], HELLO),
    status: 200,
    close: false,
    body: 'g',
  },
  {
    name: 'an empty chunked body to a route that does not read it (405)',
    send: raw('POST /echo/g HTTP/1.1', [HOST, 'Transfer-Encoding: chunked'], `0\r\n\r\n`),
    status: 405,
    close: false,
  },
];
