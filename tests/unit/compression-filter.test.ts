// The compression filter as a function (stages df4, ij8, cr8): which
// responses it codes, and that Response.codingNegotiated alone, not a Vary
// field, makes it leave a response alone. Error statuses over real sockets
// are in tests/robustness/coding-of-errors.test.ts.
import { gunzipSync } from 'node:zlib';
import { RequestParser } from '../../app/http/parser';
import { type Request, RequestBody } from '../../app/http/request';
import type { Response } from '../../app/http/response';
import { compression } from '../../stages/compression';

function request(acceptEncoding: string): Request {
  const p = new RequestParser();
  p.push(Buffer.from(`GET /x HTTP/1.1\r\nHost: x\r\nAccept-Encoding: ${acceptEncoding}\r\n\r\n`, 'latin1'));
  const ev = p.next();
  if (ev === null || ev.type !== 'head') throw new Error('no head');
  return { ...ev.head, body: new RequestBody(0, () => undefined) };
}

const filter = (acceptEncoding: string, res: Response) => compression(request(acceptEncoding), res) as Response;

test('a response that varies on Accept-Encoding but did not negotiate is coded, and Vary is not repeated', () => {
  const out = filter('gzip', { status: 200, headers: { 'Content-Type': 'text/plain', Vary: 'Accept-Encoding' }, body: 'hello' });
  expect(out.headers!['Content-Encoding']).toBe('gzip');
  expect(out.headers!['Vary']).toBe('Accept-Encoding');
  expect(gunzipSync(out.body as Buffer).toString()).toBe('hello');
});

test.each(['gzip', 'identity;q=0, *;q=0'])('a response with codingNegotiated is left alone (Accept-Encoding: %s)', (acceptEncoding) => {
  const res: Response = { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'as negotiated', codingNegotiated: true };
  expect(filter(acceptEncoding, res)).toBe(res);
});

test.each([
  [405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }],
  [415, { 'Accept-Encoding': 'identity', 'Content-Type': 'text/plain' }],
  [501, { 'Content-Type': 'text/plain' }],
  [404, { 'Content-Type': 'text/plain' }],
  [206, { 'Content-Type': 'text/plain', 'Content-Range': 'bytes 0-1/10' }],
])('a %i response is returned unchanged, whatever the client accepts', (status, headers) => {
  for (const acceptEncoding of ['gzip', 'identity;q=0, *;q=0']) {
    const res: Response = { status, headers, body: 'text' };
    expect(filter(acceptEncoding, res)).toBe(res);
  }
});

test('a 2xx with content is 406 when no coding is acceptable', () => {
  const out = filter('identity;q=0, *;q=0', { status: 200, headers: { 'Content-Type': 'text/plain' }, body: 'hello' });
  expect(out.status).toBe(406);
  expect(out.headers!['Vary']).toBe('Accept-Encoding');
});
