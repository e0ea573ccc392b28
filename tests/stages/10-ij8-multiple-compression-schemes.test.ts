// Stage ij8 "Multiple compression schemes": Accept-Encoding is read as the
// RFC 9110 §12.5.3 list it is — any spacing and case, q weights, q=0
// meaning "not acceptable" — and gzip is chosen when the list allows it.
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';

let server: RunningServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(() => server.stop());

const WORD = 'strawberry';

async function echo(acceptEncodingLines: string): Promise<WireResponse> {
  const c = await RawClient.connect(server.port);
  c.send(`GET /echo/${WORD} HTTP/1.1\r\nHost: localhost:4221\r\n${acceptEncodingLines}\r\n`);
  const res = await c.readResponse();
  await c.expectOpenAndQuiet(20);
  c.close();
  return res;
}

function decode(res: WireResponse): string {
  switch (res.header('Content-Encoding')) {
    case undefined:
      return res.body.toString();
    case 'gzip':
      return gunzipSync(res.body).toString();
    case 'br':
      return brotliDecompressSync(res.body).toString();
    case 'deflate':
      return inflateSync(res.body).toString();
    default:
      throw new Error(`unexpected Content-Encoding ${res.header('Content-Encoding')}`);
  }
}

test('the tester\'s list: invalid-encoding-1, gzip, invalid-encoding-2 → gzip', async () => {
  const res = await echo('Accept-Encoding: invalid-encoding-1, gzip, invalid-encoding-2\r\n');
  expect(res.statusLine).toBe('HTTP/1.1 200 OK');
  expect(res.header('Content-Type')).toBe('text/plain');
  expect(res.header('Content-Encoding')).toBe('gzip');
  expect(res.header('Content-Length')).toBe(String(res.body.length));
  expect(gunzipSync(res.body).toString()).toBe(WORD);
});

test('a list of only unknown codings → no Content-Encoding header', async () => {
  const res = await echo('Accept-Encoding: invalid-encoding-1, invalid-encoding-2\r\n');
  expect(res.status).toBe(200);
  expect(res.fieldLines.map(([k]) => k.toLowerCase())).not.toContain('content-encoding');
  expect(res.header('Content-Length')).toBe(String(WORD.length));
  expect(res.body.toString()).toBe(WORD);
});

test.each([
  ['no spaces', 'encoding-1,gzip,encoding-2', 'gzip'],
  ['extra spaces and tabs', '  encoding-1 ,\t gzip\t,  encoding-2  ', 'gzip'],
  ['empty list members', ', ,gzip,,', 'gzip'],
  ['upper case', 'GZIP', 'gzip'],
  ['mixed case', 'x-unknown, GZip', 'gzip'],
  ['gzip weighted low is still the only supported one', 'invalid;q=1, gzip;q=0.1', 'gzip'],
  ['spaces around ; and =', 'gzip ; q = 0.5', 'gzip'],
  ['q=0 excludes gzip', 'gzip;q=0', undefined],
  ['q=0.000 excludes gzip', 'invalid, gzip;q=0.000', undefined],
  ['Q=0 (parameter name case-insensitive) excludes gzip', 'gzip;Q=0', undefined],
  ['q=0.001 is acceptable', 'gzip;q=0.001', 'gzip'],
  ['identity preferred over gzip', 'gzip;q=0.5, identity', undefined],
  ['* accepts gzip', '*', 'gzip'],
  ['* with gzip excluded', '*, gzip;q=0', 'br'],
  ['*;q=0 with identity allowed', '*;q=0, identity', undefined],
  ['br alone', 'br', 'br'],
  ['deflate alone', 'deflate', 'deflate'],
  ['the highest weight wins', 'gzip;q=0.5, br;q=0.9', 'br'],
  ['gzip wins a tie', 'br, deflate, gzip', 'gzip'],
])('%s: Accept-Encoding: %s → %s', async (_what, value, want) => {
  const res = await echo(`Accept-Encoding: ${value}\r\n`);
  expect(res.status).toBe(200);
  expect(res.header('Content-Encoding')).toBe(want);
  expect(res.header('Vary')).toBe('Accept-Encoding');
  expect(res.header('Content-Length')).toBe(String(res.body.length));
  expect(decode(res)).toBe(WORD);
});

test('the list may be split over several Accept-Encoding field lines', async () => {
  const res = await echo('Accept-Encoding: invalid-encoding-1\r\nAccept-Encoding: gzip\r\n');
  expect(res.header('Content-Encoding')).toBe('gzip');
  expect(gunzipSync(res.body).toString()).toBe(WORD);
});

test('nothing acceptable at all (identity;q=0 and no usable coding) → 406 Not Acceptable', async () => {
  const res = await echo('Accept-Encoding: identity;q=0, invalid\r\n');
  expect(res.statusLine).toBe('HTTP/1.1 406 Not Acceptable');
  expect(res.header('Content-Encoding')).toBeUndefined();
  expect(res.header('Content-Length')).toBe(String(res.body.length));
});
