// Unit tests of the sans-I/O pieces: Range evaluation (RFC 9110 §14.1.2)
// against a byte-by-byte model, If-Range, the multipart body's announced
// length, media types, and the listing's escaping and sizes.
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { evaluateRange, ifRangeMatches, multipartByteranges } from '../../app/http/range';
import { contentTypeFor } from '../../app/files/static-file';
import { escapeHtml, formatSize } from '../../app/files/directory-listing';

type Spec = { kind: 'int'; first: number; last?: number } | { kind: 'suffix'; n: number };
const spec: fc.Arbitrary<Spec> = fc.oneof(
  fc.record({ kind: fc.constant('int' as const), first: fc.nat(300), last: fc.option(fc.nat(300), { nil: undefined }) }).filter((s) => s.last === undefined || s.last >= s.first),
  fc.record({ kind: fc.constant('suffix' as const), n: fc.nat(300) }),
);
const text = (s: Spec) => (s.kind === 'suffix' ? `-${s.n}` : `${s.first}-${s.last ?? ''}`);

/** The bytes a list of range-specs selects, one flag per byte: the model. */
function selected(specs: Spec[], size: number): boolean[] {
  const out = new Array<boolean>(size).fill(false);
  for (const s of specs) {
    const [a, b] = s.kind === 'suffix' ? [size - s.n, size - 1] : [s.first, Math.min(s.last ?? Infinity, size - 1)];
    for (let i = Math.max(0, a); i <= b; i++) out[i] = true;
  }
  return out;
}

test('evaluateRange selects exactly the bytes the range-specs name, as sorted, disjoint, non-adjacent ranges', () => {
  fc.assert(
    fc.property(fc.array(spec, { minLength: 1, maxLength: 8 }), fc.nat(250), (specs, size) => {
      const out = evaluateRange(`bytes=${specs.map(text).join(', ')}`, size);
      const model = selected(specs, size);
      const any = model.some((x) => x);
      if (!any) {
        const emptySuffix = size === 0 && specs.some((s) => s.kind === 'suffix' && s.n > 0);
        expect(out.kind).toBe(emptySuffix ? 'ignore' : 'unsatisfiable');
        return;
      }
      expect(out.kind).toBe('ranges');
      if (out.kind !== 'ranges') return;
      const got = new Array<boolean>(size).fill(false);
      out.ranges.forEach((r, i) => {
        expect(r.first).toBeGreaterThanOrEqual(0);
        expect(r.last).toBeLessThan(size);
        expect(r.first).toBeLessThanOrEqual(r.last);
        if (i > 0) expect(r.first).toBeGreaterThan(out.ranges[i - 1]!.last + 1);
        for (let b = r.first; b <= r.last; b++) got[b] = true;
      });
      expect(got).toEqual(model);
    }),
    { numRuns: 500 },
  );
});

test.each(['bytes=5-2', 'bytes=x-1', 'bytes=1', 'bytes=1-2-3', 'bytes= 1 -2', 'pages=1-2', 'bytes', 'bytes=-', 'bytes=+1-2', 'bytes=1-+2'])(
  'an invalid ranges-specifier %s is ignored',
  (v) => {
    expect(evaluateRange(v, 100).kind).toBe('ignore');
  },
);

test('very large positions are clamped, not overflowed', () => {
  expect(evaluateRange('bytes=0-99999999999999999999', 10)).toEqual({ kind: 'ranges', ranges: [{ first: 0, last: 9 }] });
  expect(evaluateRange('bytes=99999999999999999999-', 10).kind).toBe('unsatisfiable');
});

test('If-Range: strong tags match exactly, weak never, dates must equal and be a second old', () => {
  const v = { etag: '"abc"', lastModified: Date.UTC(2024, 0, 1) };
  const now = Date.UTC(2024, 0, 2);
  expect(ifRangeMatches('"abc"', v, now)).toBe(true);
  expect(ifRangeMatches('"abd"', v, now)).toBe(false);
  expect(ifRangeMatches('W/"abc"', v, now)).toBe(false);
  expect(ifRangeMatches('Mon, 01 Jan 2024 00:00:00 GMT', v, now)).toBe(true);
  expect(ifRangeMatches('Mon, 01 Jan 2024 00:00:01 GMT', v, now)).toBe(false);
  expect(ifRangeMatches('Mon, 01 Jan 2024 00:00:00 GMT', v, v.lastModified + 500)).toBe(false);
});

test('a multipart/byteranges body is exactly as long as announced', async () => {
  const data = Buffer.from('0123456789abcdefghij');
  const ranges = [
    { first: 0, last: 2 },
    { first: 10, last: 19 },
  ];
  const { contentType, body } = multipartByteranges(ranges, data.length, 'text/plain; charset=utf-8', (r) => Readable.from([data.subarray(r.first, r.last + 1)]));
  expect(contentType).toMatch(/^multipart\/byteranges; boundary=[0-9a-f]{24}$/);
  const chunks: Buffer[] = [];
  for await (const c of body.open()) chunks.push(c as Buffer);
  const all = Buffer.concat(chunks);
  expect(all.length).toBe(body.length);
  expect(all.toString()).toContain('Content-Range: bytes 10-19/20\r\n\r\nabcdefghij\r\n--');
});

test.each([
  ['index.html', 'text/html; charset=utf-8'],
  ['a/b/app.JS', 'text/javascript; charset=utf-8'],
  ['photo.jpeg', 'image/jpeg'],
  ['archive.tar.gz', 'application/gzip'],
  ['Makefile', 'application/octet-stream'],
  ['.bashrc', 'application/octet-stream'],
  ['trailingdot.', 'application/octet-stream'],
  ['html', 'application/octet-stream'],
])('contentTypeFor(%s) = %s', (name, type) => {
  expect(contentTypeFor(name)).toBe(type);
});

test('listing helpers: escaping and binary sizes', () => {
  expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&#60;a href=&#34;x&#34;&#62;&#39;&#38;&#39;&#60;/a&#62;');
  expect(formatSize(0)).toBe('0 B');
  expect(formatSize(1023)).toBe('1023 B');
  expect(formatSize(1024)).toBe('1.00 KiB');
  expect(formatSize(1536)).toBe('1.50 KiB');
  expect(formatSize(10 * 1024 * 1024)).toBe('10.0 MiB');
  expect(formatSize(1024 ** 3)).toBe('1.00 GiB');
  expect(formatSize(500 * 1024 ** 3)).toBe('500 GiB');
});
