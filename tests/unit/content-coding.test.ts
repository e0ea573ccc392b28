// Accept-Encoding parsing and content-coding negotiation (RFC 9110 §12.5.3, §12.4.2).
import { negotiateContentCoding, parseAcceptEncoding } from '../../app/http/content-coding';

const SUPPORTED = ['gzip', 'br', 'deflate'];

describe('parseAcceptEncoding', () => {
  test.each([
    ['gzip', [{ coding: 'gzip', q: 1 }]],
    ['GZIP;Q=0.8, br', [{ coding: 'gzip', q: 0.8 }, { coding: 'br', q: 1 }]],
    ['  gzip ;  q=0.5 ,\tdeflate\t', [{ coding: 'gzip', q: 0.5 }, { coding: 'deflate', q: 1 }]],
    [', ,gzip,,', [{ coding: 'gzip', q: 1 }]],
    ['*;q=0, identity;q=1.000', [{ coding: '*', q: 0 }, { coding: 'identity', q: 1 }]],
    ['invalid-encoding-1, gzip, invalid-encoding-2', [{ coding: 'invalid-encoding-1', q: 1 }, { coding: 'gzip', q: 1 }, { coding: 'invalid-encoding-2', q: 1 }]],
    ['', []],
  ])('%j', (value, want) => {
    expect(parseAcceptEncoding(value)).toEqual(want);
  });

  test.each(['gzip;q=2', 'gzip;q=1.5', 'gzip;q=0.1234', 'gzip;q=abc', 'gzip;q=-1', 'gzip;q', 'gzip;q='])(
    'a member with a malformed weight (%s) is dropped, the others kept',
    (member) => {
      expect(parseAcceptEncoding(`${member}, br`)).toEqual([{ coding: 'br', q: 1 }]);
    },
  );
});

describe('negotiateContentCoding', () => {
  test.each<[string | undefined, string | null]>([
    [undefined, 'identity'], // no field: identity is what every client understands
    ['', 'identity'], // empty field: only identity (RFC 9110 §12.5.3)
    ['gzip', 'gzip'],
    ['invalid-encoding', 'identity'],
    ['invalid-encoding-1, gzip, invalid-encoding-2', 'gzip'],
    ['invalid-encoding-1, invalid-encoding-2', 'identity'],
    ['GZip', 'gzip'],
    ['gzip;q=0', 'identity'],
    ['gzip;q=0.001', 'gzip'],
    ['gzip;q=0.5, br;q=0.9', 'br'],
    ['br, gzip', 'gzip'], // ties go to the server's preference
    ['gzip;q=0.5, gzip;q=0', 'gzip'], // the highest weight given to a coding counts
    ['gzip;q=0.5, identity', 'identity'], // identity weighted above gzip
    ['gzip, identity', 'gzip'], // equal weight: compress
    ['*', 'gzip'],
    ['*;q=0.5, gzip;q=0', 'br'],
    ['*;q=0', null], // nothing acceptable, identity included
    ['identity;q=0', null],
    ['identity;q=0, deflate', 'deflate'],
    ['*;q=0, identity', 'identity'],
  ])('Accept-Encoding %j → %j', (value, want) => {
    expect(negotiateContentCoding(value, SUPPORTED)).toBe(want);
  });

  test('only codings the server supports are chosen', () => {
    expect(negotiateContentCoding('br, gzip;q=0.5', ['gzip'])).toBe('gzip');
    expect(negotiateContentCoding('br', ['gzip'])).toBe('identity');
    expect(negotiateContentCoding('br, identity;q=0', ['gzip'])).toBeNull();
  });
});
