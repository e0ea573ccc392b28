/**
 * The chunked transfer coding (RFC 9112 §7.1): chunk-size, chunk
 * extensions, chunk data and its CRLF, trailer fields. The server runs with
 * `--max-body-size 1024 --max-header-size 1024`.
 */

import { type Case, post } from './case';

const TE = 'Transfer-Encoding: chunked';
const ok = (name: string, content: string, expected: string): Case => ({
  name,
  send: post([TE], content),
  status: 201,
  close: false,
  stored: expected,
});
const bad = (name: string, content: string, status = 400): Case => ({ name, send: post([TE], content), status, close: true });

export const chunkedCases: readonly Case[] = [
  ok('two chunks', '3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n', 'abcde'),
  ok('only the last-chunk: empty content', '0\r\n\r\n', ''),
  ok('upper-case hex size', 'A\r\n0123456789\r\n0\r\n\r\n', '0123456789'),
  ok('lower-case hex size', 'a\r\n0123456789\r\n0\r\n\r\n', '0123456789'),
  ok('leading zeros in chunk-size', '0005\r\nhello\r\n0\r\n\r\n', 'hello'),
  ok('many leading zeros do not count as overflow', `${'0'.repeat(40)}5\r\nhello\r\n0\r\n\r\n`, 'hello'),
  ok('leading zeros in the last-chunk', '5\r\nhello\r\n000\r\n\r\n', 'hello'),
  ok('a chunk extension with a token value (§7.1.1)', '5;name=value\r\nhello\r\n0\r\n\r\n', 'hello'),
  ok('a chunk extension with a quoted value', '5;name="a b;c"\r\nhello\r\n0\r\n\r\n', 'hello'),
  ok('a chunk extension without a value', '5;flag\r\nhello\r\n0\r\n\r\n', 'hello'),
  ok('several chunk extensions with BWS', '5 ; a = b ;c\r\nhello\r\n0;last\r\n\r\n', 'hello'),
  ok('a trailer field (§7.1.2)', '5\r\nhello\r\n0\r\nX-Checksum: 1234\r\n\r\n', 'hello'),
  ok('two trailer fields', '5\r\nhello\r\n0\r\nX-A: 1\r\nX-B: 2\r\n\r\n', 'hello'),
  ok('content with CRLF and NUL inside a chunk', '6\r\n\r\n\0\r\n0\r\n0\r\n\r\n', '\r\n\0\r\n0'),
  ok('a chunk that looks like a chunk-size line', '5\r\n0\r\n\r\n\r\n0\r\n\r\n', '0\r\n\r\n'),
  ok('chunks adding up to exactly --max-body-size', `200\r\n${'a'.repeat(512)}\r\n200\r\n${'b'.repeat(512)}\r\n0\r\n\r\n`, 'a'.repeat(512) + 'b'.repeat(512)),
  {
    name: 'Content-Length in the trailer section changes nothing',
    send: post([TE], '5\r\nhello\r\n0\r\nContent-Length: 99\r\n\r\n'),
    status: 201,
    close: false,
    stored: 'hello',
  },

  // chunk-size = 1*HEXDIG
  bad('a non-hex chunk-size', 'g\r\nhello\r\n0\r\n\r\n'),
  bad('chunk-size with a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'),
  bad('a negative chunk-size', '-5\r\nhello\r\n0\r\n\r\n'),
  bad('a plus sign before the chunk-size', '+5\r\nhello\r\n0\r\n\r\n'),
  bad('an empty chunk-size line', '\r\nhello\r\n0\r\n\r\n'),
  bad('SP after the chunk-size without an extension', '5 \r\nhello\r\n0\r\n\r\n'),
  bad('SP before the chunk-size', ' 5\r\nhello\r\n0\r\n\r\n'),
  bad('chunk-size overflowing 64 bits', 'ffffffffffffffffff\r\nhello\r\n0\r\n\r\n'),
  bad('chunk-size that wraps to 5 in 64-bit arithmetic', '10000000000000005\r\nhello\r\n0\r\n\r\n'),
  bad('chunk-size over 2^53 (14 hex digits)', '20000000000000\r\nhello\r\n0\r\n\r\n'),
  bad('a decimal point in the chunk-size', '5.0\r\nhello\r\n0\r\n\r\n'),
  bad('a chunk-size line ending in a bare LF', '5\nhello\r\n0\r\n\r\n'),
  bad('a chunk-size line ending in a bare CR', '5\rhello\r\n0\r\n\r\n'),
  bad('a chunk-size line ending in CR CR LF', '5\r\r\nhello\r\n0\r\n\r\n'),
  bad('a last-chunk ending in a bare LF', '5\r\nhello\r\n0\n\r\n'),
  // chunk-ext (§7.1.1)
  bad('a ";" without an extension name', '5;\r\nhello\r\n0\r\n\r\n'),
  bad('an extension without a name', '5;=v\r\nhello\r\n0\r\n\r\n'),
  bad('an extension with an empty value', '5;a=\r\nhello\r\n0\r\n\r\n'),
  bad('an unterminated quoted extension value', '5;a="v\r\nhello\r\n0\r\n\r\n'),
  bad('a NUL in a chunk extension', '5;a=\0\r\nhello\r\n0\r\n\r\n'),
  bad('a bare CR in a chunk extension', '5;a=b\rc\r\nhello\r\n0\r\n\r\n'),
  bad('a chunk-size line longer than 4 KiB (extensions are bounded)', `5;a=${'v'.repeat(5000)}\r\nhello\r\n0\r\n\r\n`),
  // chunk-data CRLF
  bad('chunk data longer than its size', '5\r\nhello!\r\n0\r\n\r\n'),
  bad('chunk data shorter than its size', '5\r\nhell\r\n0\r\n\r\n'),
  bad('chunk data followed by a bare LF', '5\r\nhello\n0\r\n\r\n'),
  bad('chunk data followed by a bare CR', '5\r\nhello\r0\r\n\r\n'),
  bad('chunk data followed by LF CR', '5\r\nhello\n\r0\r\n\r\n'),
  // trailer section (§7.1.2): field lines like the header section's.
  bad('a trailer line without a colon', '5\r\nhello\r\n0\r\nX-A\r\n\r\n'),
  bad('SP before the colon in a trailer field', '5\r\nhello\r\n0\r\nX-A : 1\r\n\r\n'),
  bad('obs-fold in the trailer section', '5\r\nhello\r\n0\r\nX-A: 1\r\n 2\r\n\r\n'),
  bad('NUL in a trailer value', '5\r\nhello\r\n0\r\nX-A: \0\r\n\r\n'),
  bad('a trailer line ending in a bare LF', '5\r\nhello\r\n0\r\nX-A: 1\n\r\n'),
  bad('the trailer section ending in a bare LF', '5\r\nhello\r\n0\r\n\n'),
  bad('a trailer section over --max-header-size is 431', `5\r\nhello\r\n0\r\nX-Big: ${'t'.repeat(1100)}\r\n\r\n`, 431),
  // Limits (RFC 9110 §15.5.14)
  bad('chunks adding up to more than --max-body-size are 413', `200\r\n${'a'.repeat(512)}\r\n201\r\n${'b'.repeat(513)}\r\n0\r\n\r\n`, 413),
  bad('one chunk-size over the limit is 413 before its data', `fffff\r\n${'a'.repeat(100)}`, 413),
];
