/**
 * Content-Length framing (RFC 9112 §6.2-§6.3, RFC 9110 §8.6) and the
 * content limit. The server runs with `--max-body-size 1024`.
 */

import { type Case, HOST, post, raw } from './case';

/** Content that is itself a complete request: it must never be answered. */
const SMUGGLED = raw('GET /echo/smuggled HTTP/1.1');

const bad = (name: string, value: string, content = 'hello'): Case => ({
  name,
  send: post([`Content-Length: ${value}`], content),
  status: 400,
  close: true,
});
const stored = (name: string, fields: string[], content: string, expected: string): Case => ({
  name,
  send: post(fields, content),
  status: 201,
  close: false,
  stored: expected,
});

export const contentLengthCases: readonly Case[] = [
  stored('Content-Length: 5 frames exactly 5 bytes', ['Content-Length: 5'], 'hello', 'hello'),
  stored('Content-Length: 0', ['Content-Length: 0'], '', ''),
  stored('no framing at all: no content (§6.3 item 7)', [], '', ''),
  stored('leading zeros: 005', ['Content-Length: 005'], 'hello', 'hello'),
  stored('OWS around the value', ['Content-Length: \t 5 \t'], 'hello', 'hello'),
  stored('the same value on two lines may be folded (RFC 9110 §8.6)', ['Content-Length: 5', 'Content-Length: 5'], 'hello', 'hello'),
  stored('the same value twice as a list', ['Content-Length: 5, 5'], 'hello', 'hello'),
  stored('binary content with CR, LF and NUL', ['Content-Length: 6'], '\r\n\0\r\n\xff', '\r\n\0\r\n\xff'),
  stored('content that looks like a request is still content', [`Content-Length: ${SMUGGLED.length}`], SMUGGLED, SMUGGLED),
  stored('exactly --max-body-size bytes', ['Content-Length: 1024'], 'z'.repeat(1024), 'z'.repeat(1024)),
  stored('Transfer_Encoding (underscore) is just another field', ['Transfer_Encoding: chunked', 'Content-Length: 5'], 'hello', 'hello'),
  stored('Content-Length in odd case', ['cOnTeNt-LeNgTh: 5'], 'hello', 'hello'),
  {
    name: 'content on a GET is read and discarded, the next request is intact',
    send: raw('GET /echo/g HTTP/1.1', [HOST, 'Content-Length: 5'], 'hello'),
    status: 200,
    close: false,
    body: 'g',
  },
  {
    name: 'content to a route that does not read it (405) is discarded, not parsed',
    send: raw('POST /echo/g HTTP/1.1', [HOST, `Content-Length: ${SMUGGLED.length}`], SMUGGLED),
    status: 405,
    close: false,
  },
  bad('a plus sign: +5', '+5'),
  bad('a minus sign: -5', '-5'),
  bad('hexadecimal: 0x5', '0x5'),
  bad('a trailing letter: 5a', '5a'),
  bad('a decimal point: 5.0', '5.0'),
  bad('an exponent: 5e0', '5e0'),
  bad('a space inside: 5 5', '5 5'),
  bad('a tab inside: 5\\t5', '5\t5'),
  bad('an empty Content-Length value', ''),
  bad('two different values on one line', '5, 6'),
  bad('an empty list member: 5,', '5,'),
  bad('a leading comma: ,5', ',5'),
  bad('a quoted value: "5"', '"5"'),
  bad('a 20-digit value (overflow)', '18446744073709551621'),
  bad('a superscript two (latin1 0xB2)', '\xb2'),
  bad('full-width digits (UTF-8 bytes)', '\xef\xbc\x95'),
  {
    name: 'two lines with different values',
    send: post(['Content-Length: 5', 'Content-Length: 6'], 'hello!'),
    status: 400,
    close: true,
  },
  {
    name: 'two lines, one of them empty',
    send: post(['Content-Length: 5', 'Content-Length:'], 'hello'),
    status: 400,
    close: true,
  },
  {
    name: 'SP before the colon of Content-Length',
    send: post(['Content-Length : 5'], 'hello'),
    status: 400,
    close: true,
  },
  {
    name: 'Content-Length over --max-body-size is 413 before any content is read',
    send: post(['Content-Length: 1025'], ''),
    status: 413,
    close: true,
  },
  {
    name: 'a huge Content-Length is 413, not a wait for the bytes',
    send: post(['Content-Length: 999999999999999'], ''),
    status: 413,
    close: true,
  },
  {
    name: 'Content-Length over the limit with its content following is still 413',
    send: post(['Content-Length: 2000'], 'x'.repeat(2000)),
    status: 413,
    close: true,
  },
];
