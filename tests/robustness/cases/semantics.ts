/**
 * Methods, expectations and persistence (RFC 9110 §9, §10.1.1; RFC 9112
 * §9.3, §9.6): the answers that do not depend on framing errors.
 */

import { type Case, HOST, post, raw } from './case';

export const semanticsCases: readonly Case[] = [
  // Methods (RFC 9110 §9): 405 with Allow for a known method a route lacks.
  { name: 'POST / is 405', send: raw('POST / HTTP/1.1', [HOST, 'Content-Length: 0']), status: 405, close: false },
  { name: 'DELETE /user-agent is 405', send: raw('DELETE /user-agent HTTP/1.1'), status: 405, close: false },
  { name: 'PUT /echo/x is 405', send: raw('PUT /echo/x HTTP/1.1', [HOST, 'Content-Length: 3'], 'abc'), status: 405, close: false },
  { name: 'TRACE / is 405', send: raw('TRACE / HTTP/1.1'), status: 405, close: false },
  { name: 'PATCH / is 405', send: raw('PATCH / HTTP/1.1', [HOST, 'Content-Length: 0']), status: 405, close: false },
  { name: 'HEAD /echo/abc has the GET headers and no content', send: raw('HEAD /echo/abc HTTP/1.1'), status: 200, close: false, head: true },
  { name: 'HEAD / is answered', send: raw('HEAD / HTTP/1.1'), status: 200, close: false, head: true },
  { name: 'OPTIONS /echo/x lists Allow', send: raw('OPTIONS /echo/x HTTP/1.1'), status: 204, close: false },
  { name: 'OPTIONS / lists Allow', send: raw('OPTIONS / HTTP/1.1'), status: 204, close: false },
  { name: 'an unknown method with content is 501 and its content is skipped', send: raw('BREW /pot HTTP/1.1', [HOST, 'Content-Length: 6'], 'coffee'), status: 501, close: false },

  // Expect (RFC 9110 §10.1.1): only 100-continue is understood.
  { name: 'Expect: an unknown expectation is 417', send: raw('GET / HTTP/1.1', [HOST, 'Expect: teapot']), status: 417, close: true },
  { name: 'Expect: 100-continue plus another expectation is 417', send: raw('GET / HTTP/1.1', [HOST, 'Expect: 100-continue, x']), status: 417, close: true },
  { name: 'Expect: 100-continue on a GET without content: no 100', send: raw('GET /echo/e HTTP/1.1', [HOST, 'Expect: 100-continue']), status: 200, close: false, body: 'e' },
  { name: 'Expect: 100-Continue in another case', send: raw('GET /echo/e HTTP/1.1', [HOST, 'Expect: 100-Continue']), status: 200, close: false, body: 'e' },
  {
    name: 'Expect: 100-continue on HTTP/1.0 is ignored, the content is read as sent',
    send: post(['Expect: 100-continue', 'Content-Length: 5', 'Connection: keep-alive'], 'hello', 'HTTP/1.0'),
    status: 201,
    close: false,
    stored: 'hello',
  },
  {
    name: 'Expect: 100-continue with the content sent at once anyway',
    send: post(['Expect: 100-continue', 'Content-Length: 5'], 'hello'),
    status: 201,
    close: false,
    stored: 'hello',
  },

  // Persistence (RFC 9112 §9.3, §9.6).
  { name: 'Connection: close is honoured', send: raw('GET /echo/c HTTP/1.1', [HOST, 'Connection: close']), status: 200, close: true, body: 'c' },
  { name: 'Connection: close among other options', send: raw('GET /echo/c HTTP/1.1', [HOST, 'Connection: keep-alive, close']), status: 200, close: true },
  { name: 'Connection: CLOSE in upper case', send: raw('GET /echo/c HTTP/1.1', [HOST, 'Connection: CLOSE']), status: 200, close: true },
  { name: 'HTTP/1.0 with keep-alive persists', send: raw('GET /echo/k HTTP/1.0', ['Connection: keep-alive']), status: 200, close: false, body: 'k' },
  { name: 'HTTP/1.0 with Keep-Alive in another case', send: raw('GET /echo/k HTTP/1.0', ['Connection: Keep-Alive']), status: 200, close: false, body: 'k' },
  { name: 'a 404 keeps the connection', send: raw('GET /nowhere HTTP/1.1'), status: 404, close: false },
  { name: 'an Upgrade request is served as plain HTTP/1.1', send: raw('GET /echo/u HTTP/1.1', [HOST, 'Connection: Upgrade', 'Upgrade: h2c']), status: 200, close: false, body: 'u' },
];
