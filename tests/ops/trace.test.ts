// --trace FILE: every request and response head exactly as it crossed the
// wire (request heads split over several packets, content skipped, raw
// obs-text kept), with the connection each belongs to; a rejected request
// is traced as `unparsed`.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { removeScratch, scratch, waitFor } from '../uploads/helpers';

interface Rec {
  line: string;
  id: number;
  client: string;
  arrow: string;
  kind: string;
  head: Buffer;
}

/** Reads the trace: a description line, then exactly as many bytes as it says, then a newline. */
function records(file: string): Rec[] {
  if (!existsSync(file)) return [];
  const all = readFileSync(file);
  const out: Rec[] = [];
  let i = 0;
  while (i < all.length) {
    const nl = all.indexOf(0x0a, i);
    if (nl === -1) break;
    const line = all.toString('latin1', i, nl);
    const m = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z #(\d+) (\S+) ([<>]) 127\.0\.0\.1:\d+ (request|response|unparsed) (\d+)$/.exec(line);
    if (m === null) throw new Error(`bad trace line ${JSON.stringify(line)}`);
    const n = Number(m[5]);
    if (nl + 1 + n + 1 > all.length) break; // not all written yet
    out.push({ line, id: Number(m[1]), client: m[2]!, arrow: m[3]!, kind: m[4]!, head: all.subarray(nl + 1, nl + 1 + n) });
    expect(all[nl + 1 + n]).toBe(0x0a);
    i = nl + 1 + n + 1;
  }
  return out;
}

describe('--trace', () => {
  let dir: string;
  let server: RunningServer | undefined;
  beforeAll(() => (dir = scratch('trace-')));
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });
  afterAll(() => removeScratch(dir));

  test('request and response heads, byte for byte, per connection', async () => {
    const file = path.join(dir, 'trace.bin');
    server = await startServer(['--directory', dir, '--trace', file]);
    const first = Buffer.from('PUT /files/t.txt HTTP/1.1\r\nHost: x\r\nUser-Agent: \xe9t\xe9 "x"\r\nContent-Length: 11\r\n\r\n', 'latin1');
    const second = Buffer.from('\r\nGET /echo/abc HTTP/1.1\r\nhost:   x  \r\nX-Thing:\tsp aced\r\n\r\n', 'latin1'); // a leading empty line, odd spacing
    const c = await RawClient.connect(server.port);
    c.send(first.subarray(0, 10));
    await new Promise((r) => setTimeout(r, 50));
    c.send(first.subarray(10, 30));
    await new Promise((r) => setTimeout(r, 50));
    c.send(Buffer.concat([first.subarray(30), Buffer.from('hello world'), second]));
    const r1 = await c.readResponse();
    const r2 = await c.readResponse();
    expect([r1.status, r2.status]).toEqual([201, 200]);
    c.close();
    const bad = await RawClient.connect(server.port);
    bad.send('GET /x HTTP/1.1\r\nHost: x\r\nBad Field: y\r\n\r\n');
    const r3 = await bad.readResponse();
    expect(r3.status).toBe(400);
    bad.close();

    await waitFor(() => records(file).length >= 6, 'six trace records', 5000);
    const recs = records(file);
    expect(recs.map((r) => [r.id, r.arrow, r.kind])).toEqual([
      [recs[0]!.id, '>', 'request'],
      [recs[0]!.id, '<', 'response'],
      [recs[0]!.id, '>', 'request'],
      [recs[0]!.id, '<', 'response'],
      [recs[0]!.id + 1, '>', 'unparsed'],
      [recs[0]!.id + 1, '<', 'response'],
    ]);
    expect(recs[0]!.head.equals(first)).toBe(true); // assembled from three packets, content left out
    expect(recs[1]!.head.toString('latin1')).toBe(r1.rawHead);
    expect(recs[2]!.head.equals(second)).toBe(true);
    expect(recs[3]!.head.toString('latin1')).toBe(r2.rawHead);
    expect(recs[4]!.head.toString('latin1')).toBe('GET /x HTTP/1.1\r\nHost: x\r\nBad Field: y\r\n\r\n');
    expect(recs[5]!.head.toString('latin1')).toBe(r3.rawHead);
    expect(recs[0]!.client).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(recs[4]!.client).not.toBe(recs[0]!.client);
  });
});
