/**
 * Header field lines (RFC 9112 §5, RFC 9110 §5.5-§5.6, §7.2 Host).
 * The server runs with `--max-header-size 1024 --max-header-count 20`.
 */

import { type Case, CRLF, HOST, raw } from './case';

/** A GET /echo/h with `HOST` and the given extra field lines. */
const get = (...fields: string[]) => raw('GET /echo/h HTTP/1.1', [HOST, ...fields]);
const bad = (name: string, ...fields: string[]): Case => ({ name, send: get(...fields), status: 400, close: true });
const ok = (name: string, ...fields: string[]): Case => ({ name, send: get(...fields), status: 200, close: false, body: 'h' });

export const headerFieldCases: readonly Case[] = [
  ok('a plain extra field'),
  ok('field-name in odd case', 'x-CuStOm-NaMe: 1'),
  ok('no space after the colon', 'X-A:b'),
  ok('HTAB as OWS around the value', 'X-A:\tb\t'),
  ok('an empty field value', 'X-Empty:'),
  ok('obs-text in a value is kept (RFC 9110 §5.5)', 'X-Latin: caf\xe9'),
  ok('a value with quotes, commas and semicolons', 'X-A: "a, b"; c=d, e'),
  ok('a field-name made of every tchar', "X-!#$%&'*+-.^_`|~09az: 1"),
  ok('the same field twice', 'X-A: 1', 'X-A: 2'),
  ok('a long but allowed value', `X-Long: ${'v'.repeat(500)}`),
  ok('exactly 20 field lines, the limit', ...Array.from({ length: 19 }, (_, i) => `X-${i}: ${i}`)),
  {
    name: 'User-Agent keeps inner spaces and loses OWS around it',
    send: raw('GET /user-agent HTTP/1.1', [HOST, 'User-Agent: \t  a b/1 \t ']),
    status: 200,
    close: false,
    body: 'a b/1',
  },

  // §5.1: no whitespace between field-name and colon.
  bad('SP between field-name and colon', 'X-A : b'),
  bad('HTAB between field-name and colon', 'X-A\t: b'),
  { name: 'SP before the colon of Host', send: raw('GET / HTTP/1.1', ['Host : example.test']), status: 400, close: true },
  // §5.2: obs-fold is rejected.
  bad('obs-fold with SP', 'X-A: b', ' c'),
  bad('obs-fold with HTAB', 'X-A: b', '\tc'),
  { name: 'whitespace-preceded first field line (§2.2)', send: raw('GET / HTTP/1.1', [` ${HOST}`]), status: 400, close: true },
  { name: 'obs-fold inside Host', send: raw('GET / HTTP/1.1', ['Host:', ' example.test']), status: 400, close: true },
  // field-name = token.
  bad('"(" in a field-name', 'X(A): b'),
  bad('SP inside a field-name', 'X A: b'),
  bad('an empty field-name', ': b'),
  bad('a field line without a colon', 'X-A b'),
  bad('DEL in a field-name', 'X\x7fA: b'),
  bad('obs-text in a field-name', 'X-\xe9: b'),
  bad('NUL in a field-name', 'X\0A: b'),
  bad('a "/" in a field-name', 'X/A: b'),
  // field-value: no CR, LF, NUL or other CTLs (RFC 9110 §5.5).
  bad('NUL in a value', 'X-A: a\0b'),
  bad('bare CR in a value (§2.2)', 'X-A: a\rb'),
  bad('a value ending in a bare CR before CRLF', 'X-A: a\r'),
  bad('DEL in a value', 'X-A: a\x7fb'),
  bad('0x01 in a value', 'X-A: a\x01b'),
  bad('ESC in a value', 'X-A: \x1b[31m'),
  bad('vertical tab in a value', 'X-A: a\x0bb'),
  bad('form feed in a value', 'X-A: a\x0cb'),
  { name: 'bare LF ending a field line', send: `GET / HTTP/1.1${CRLF}${HOST}\nX-A: b${CRLF}${CRLF}`, status: 400, close: true },
  { name: 'bare LF ending the header section', send: `GET / HTTP/1.1${CRLF}${HOST}${CRLF}\n`, status: 400, close: true },
  { name: 'LF CR instead of CRLF', send: `GET / HTTP/1.1${CRLF}${HOST}\n\r${CRLF}`, status: 400, close: true },

  // Host (RFC 9112 §3.2, RFC 9110 §7.2).
  { name: 'missing Host on HTTP/1.1', send: raw('GET / HTTP/1.1', []), status: 400, close: true },
  { name: 'missing Host, other fields present', send: raw('GET / HTTP/1.1', ['User-Agent: x']), status: 400, close: true },
  { name: 'two Host lines', send: raw('GET / HTTP/1.1', [HOST, HOST]), status: 400, close: true },
  { name: 'two different Host lines', send: raw('GET / HTTP/1.1', ['Host: a.example', 'Host: b.example']), status: 400, close: true },
  { name: 'two Host lines in different case', send: raw('GET / HTTP/1.1', ['Host: a.example', 'hOST: a.example']), status: 400, close: true },
  { name: 'a Host list "a, b"', send: raw('GET / HTTP/1.1', ['Host: a.example, b.example']), status: 400, close: true },
  { name: 'Host with SP inside', send: raw('GET / HTTP/1.1', ['Host: a .example']), status: 400, close: true },
  { name: 'Host with userinfo', send: raw('GET / HTTP/1.1', ['Host: user@a.example']), status: 400, close: true },
  { name: 'Host with a path', send: raw('GET / HTTP/1.1', ['Host: a.example/x']), status: 400, close: true },
  { name: 'Host with a bad port', send: raw('GET / HTTP/1.1', ['Host: a.example:8o']), status: 400, close: true },
  { name: 'two Host lines on HTTP/1.0', send: raw('GET / HTTP/1.0', [HOST, HOST]), status: 400, close: true },
  { name: 'an empty Host on an HTTP/1.1 origin-form request (RFC 9112 §3.2)', send: raw('GET /echo/h HTTP/1.1', ['Host:']), status: 400, close: true },
  { name: 'an empty Host on HTTP/1.0 is allowed', send: raw('GET /echo/h HTTP/1.0', ['Host:', 'Connection: keep-alive']), status: 200, close: false, body: 'h' },
  { name: 'Host with a port', send: raw('GET /echo/h HTTP/1.1', ['Host: a.example:8080']), status: 200, close: false, body: 'h' },
  { name: 'Host as an IPv6 literal', send: raw('GET /echo/h HTTP/1.1', ['Host: [::1]:4221']), status: 200, close: false, body: 'h' },
  { name: 'Host as an IPv4 address', send: raw('GET /echo/h HTTP/1.1', ['Host: 127.0.0.1']), status: 200, close: false, body: 'h' },
  { name: 'Host field-name in odd case', send: raw('GET /echo/h HTTP/1.1', ['hOsT: a.example']), status: 200, close: false, body: 'h' },
  { name: 'no Host on HTTP/1.0 is fine', send: raw('GET /echo/h HTTP/1.0', []), status: 200, close: true },
  { name: 'absolute-form still needs Host on HTTP/1.1', send: raw('GET http://a.example/ HTTP/1.1', []), status: 400, close: true },

  // Limits (RFC 6585 §5): 431.
  { name: 'a header section over --max-header-size is 431', send: get(`X-Big: ${'v'.repeat(1100)}`), status: 431, close: true },
  { name: 'many small fields over the size limit', send: get(...Array.from({ length: 18 }, (_, i) => `X-${i}: ${'v'.repeat(60)}`)), status: 431, close: true },
  { name: '21 field lines, over --max-header-count', send: get(...Array.from({ length: 20 }, (_, i) => `X-${i}: ${i}`)), status: 431, close: true },
  {
    name: 'a field line that never ends, past the limit, is 431',
    send: `GET / HTTP/1.1${CRLF}${HOST}${CRLF}X-Endless: ${'v'.repeat(2000)}`,
    status: 431,
    close: true,
    alone: true,
  },
];
