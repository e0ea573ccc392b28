/**
 * The request-line (RFC 9112 §2.2, §3) and message-level line handling.
 * The server runs with `--max-target-length 256`.
 */

import { type Case, CRLF, HOST, raw } from './case';

const bad = (name: string, requestLine: string): Case => ({ name, send: raw(requestLine), status: 400, close: true });
const long = 'a'.repeat(300);

export const requestLineCases: readonly Case[] = [
  // Control rows: what a well-formed request gets.
  { name: 'well-formed origin-form GET', send: raw('GET /echo/ok HTTP/1.1'), status: 200, close: false, body: 'ok' },
  { name: 'HTTP/1.0 without keep-alive closes after the response (§9.3)', send: raw('GET /echo/ok HTTP/1.0'), status: 200, close: true },

  // method = token (RFC 9110 §9.1): unknown but well-formed is 501, malformed is 400.
  { name: 'unknown method token is 501 (RFC 9110 §9.1)', send: raw('BREW /echo/x HTTP/1.1'), status: 501, close: false },
  { name: 'lower-case "get" is another, unknown method (methods are case-sensitive)', send: raw('get / HTTP/1.1'), status: 501, close: false },
  { name: 'mixed-case "Get" is unknown too', send: raw('Get / HTTP/1.1'), status: 501, close: false },
  { name: 'a 100-byte token method is just unknown', send: raw(`${'X'.repeat(100)} / HTTP/1.1`), status: 501, close: false },
  bad('method with "(" (not a tchar)', 'GE(T / HTTP/1.1'),
  bad('method with "@"', 'G@T / HTTP/1.1'),
  bad('method with a NUL', 'GE\0T / HTTP/1.1'),
  bad('method with obs-text', 'G\xc9T / HTTP/1.1'),
  bad('empty method (line starts with SP)', ' / HTTP/1.1'),

  // Separators: exactly one SP between the three parts (§3).
  bad('two SP after the method', 'GET  / HTTP/1.1'),
  bad('two SP before the version', 'GET /  HTTP/1.1'),
  bad('HTAB instead of SP after the method', 'GET\t/ HTTP/1.1'),
  bad('HTAB instead of SP before the version', 'GET /\tHTTP/1.1'),
  bad('trailing SP after the version', 'GET / HTTP/1.1 '),
  bad('a fourth word after the version', 'GET / HTTP/1.1 extra'),
  bad('HTTP/0.9 simple request (no version)', 'GET /'),
  bad('only a method', 'GET'),
  bad('vertical tab as separator', 'GET\x0b/ HTTP/1.1'),

  // HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (§2.3).
  bad('lower-case http/1.1', 'GET / http/1.1'),
  bad('Http/1.1', 'GET / Http/1.1'),
  bad('HTTP/1 (no minor)', 'GET / HTTP/1'),
  bad('HTTP/1.10 (two-digit minor)', 'GET / HTTP/1.10'),
  bad('HTTP/01.1 (two-digit major)', 'GET / HTTP/01.1'),
  bad('HTTP/1.1.1', 'GET / HTTP/1.1.1'),
  bad('HTTPS/1.1', 'GET / HTTPS/1.1'),
  bad('HTTP/a.b', 'GET / HTTP/a.b'),
  bad('HTTP/1,1', 'GET / HTTP/1,1'),
  bad('HTTP 1.1 (space for slash)', 'GET / HTTP 1.1'),
  bad('HTTP/-1.1', 'GET / HTTP/-1.1'),
  bad('HTTP/1.1 followed by a NUL', 'GET / HTTP/1.1\0'),
  { name: 'well-formed HTTP/2.0 is 505 (RFC 9110 §15.6.6)', send: raw('GET / HTTP/2.0'), status: 505, close: true },
  { name: 'well-formed HTTP/3.0 is 505', send: raw('GET / HTTP/3.0'), status: 505, close: true },
  { name: 'well-formed HTTP/0.9 is 505', send: raw('GET / HTTP/0.9'), status: 505, close: true },
  { name: 'well-formed HTTP/9.9 is 505', send: raw('GET / HTTP/9.9'), status: 505, close: true },
  { name: 'HTTP/1.2: only 1.0 and 1.1 are served, 505', send: raw('GET / HTTP/1.2'), status: 505, close: true },
  {
    name: 'the HTTP/2 connection preface is 505, not a hang',
    send: `PRI * HTTP/2.0${CRLF}${CRLF}SM${CRLF}${CRLF}`,
    status: 505,
    close: true,
  },

  // request-target forms (§3.2).
  { name: 'absolute-form for another host is served (§3.2.2)', send: raw('GET http://elsewhere.example/echo/abs HTTP/1.1'), status: 200, close: false, body: 'abs' },
  { name: 'absolute-form with https and a port', send: raw('GET https://elsewhere.example:8443/echo/s HTTP/1.1'), status: 200, close: false, body: 's' },
  { name: 'absolute-form with an upper-case scheme', send: raw('GET HTTP://elsewhere.example/echo/u HTTP/1.1'), status: 200, close: false, body: 'u' },
  { name: 'absolute-form without a path means "/"', send: raw('GET http://elsewhere.example HTTP/1.1'), status: 200, close: false },
  { name: 'absolute-form with a query', send: raw('GET http://h.example/echo/q?x=1 HTTP/1.1'), status: 200, close: false, body: 'q' },
  bad('absolute-form with an empty host (RFC 9110 §4.2.1)', 'GET http:///echo/x HTTP/1.1'),
  bad('absolute-form with userinfo (RFC 9110 §4.2.4)', 'GET http://user:pw@h.example/ HTTP/1.1'),
  bad('absolute-form with a non-http scheme', 'GET ftp://h.example/ HTTP/1.1'),
  bad('a relative path without "/"', 'GET echo/x HTTP/1.1'),
  bad('authority-form on GET (only CONNECT may use it, §3.2.3)', 'GET h.example:80 HTTP/1.1'),
  bad('asterisk-form on GET (only OPTIONS, §3.2.4)', 'GET * HTTP/1.1'),
  bad('asterisk-form on POST', 'POST * HTTP/1.1'),
  { name: 'OPTIONS * asks about the server (RFC 9110 §9.3.7)', send: raw('OPTIONS * HTTP/1.1'), status: 204, close: false },
  { name: 'CONNECT in authority-form is 501 (no tunnels here)', send: raw('CONNECT h.example:443 HTTP/1.1'), status: 501, close: false },
  bad('CONNECT with an origin-form target', 'CONNECT / HTTP/1.1'),
  bad('CONNECT without a port', 'CONNECT h.example HTTP/1.1'),
  bad('a fragment in the target', 'GET /echo/x#frag HTTP/1.1'),
  bad('a NUL in the target', 'GET /echo/a\0b HTTP/1.1'),
  bad('obs-text in the target', 'GET /echo/\xe9 HTTP/1.1'),
  bad('DEL in the target', 'GET /echo/\x7f HTTP/1.1'),
  bad('a control character in the target', 'GET /echo/\x01 HTTP/1.1'),
  { name: 'a malformed percent-encoding in a path the route decodes', send: raw('GET /echo/%zz HTTP/1.1'), status: 400, close: true },
  { name: 'request-target longer than --max-target-length is 414 (§3)', send: raw(`GET /${long} HTTP/1.1`), status: 414, close: true },
  { name: 'absolute-form longer than the limit is 414', send: raw(`GET http://h.example/${long} HTTP/1.1`), status: 414, close: true },
  { name: 'request-line that never ends, past the limit, is 414', send: `GET /${'b'.repeat(2000)}`, status: 414, close: true, alone: true },
  { name: 'binary junk without any LF is 400', send: '\x16\x03\x01\x02\x00'.repeat(100), status: 400, close: true, alone: true },
  { name: 'a TLS ClientHello on the plain port is 400', send: '\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03' + 'r'.repeat(32) + '\r\n', status: 400, close: true },

  // Line endings (§2.2): CRLF only; leading empty lines are ignored.
  { name: 'one empty line before the request-line is ignored (§2.2)', send: CRLF + raw('GET /echo/e HTTP/1.1'), status: 200, close: false, body: 'e' },
  { name: 'three empty lines before the request-line', send: CRLF.repeat(3) + raw('GET /echo/e HTTP/1.1'), status: 200, close: false, body: 'e' },
  { name: 'twenty empty lines before the request-line is too many', send: CRLF.repeat(20) + raw('GET / HTTP/1.1'), status: 400, close: true },
  { name: 'bare LF ending the request-line', send: `GET / HTTP/1.1\n${HOST}${CRLF}${CRLF}`, status: 400, close: true },
  { name: 'bare LF everywhere', send: `GET / HTTP/1.1\n${HOST}\n\n`, status: 400, close: true },
  { name: 'bare LF as a leading empty line', send: '\n' + raw('GET / HTTP/1.1'), status: 400, close: true },
  { name: 'bare CR ending the request-line', send: `GET / HTTP/1.1\r${HOST}${CRLF}${CRLF}`, status: 400, close: true },
  { name: 'bare CR inside the target', send: raw('GET /echo/a\rb HTTP/1.1'), status: 400, close: true },
  { name: 'CR CR LF ending the request-line', send: `GET / HTTP/1.1\r\r\n${HOST}${CRLF}${CRLF}`, status: 400, close: true },
  { name: 'bare CR as a leading empty line', send: '\r' + raw('GET / HTTP/1.1'), status: 400, close: true },
  { name: 'SP before the method', send: raw(' GET / HTTP/1.1'), status: 400, close: true },
];
