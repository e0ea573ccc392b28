// Neither a password nor an Authorization value reaches a log: the
// --trace file writes request heads byte for byte except the values of
// Authorization and Proxy-Authorization (its length counting the redacted
// bytes), a head the parser rejected included; the access log never
// had them (JSON and combined formats checked).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient } from '../helpers/wire';
import { removeScratch, scratch, waitFor } from '../uploads/helpers';
import { basic } from './helpers';

const PASSWORD = 'hunter2-Sekret';
const AUTH = basic('alice', PASSWORD);
const BASE64 = AUTH.slice('Basic '.length);

/** The trace's records: a description line ending in the head's length, then that many bytes, then a newline. */
function records(file: string): Array<{ kind: string; head: string }> {
  if (!existsSync(file)) return [];
  const all = readFileSync(file);
  const out: Array<{ kind: string; head: string }> = [];
  let i = 0;
  while (i < all.length) {
    const nl = all.indexOf(0x0a, i);
    if (nl === -1) break;
    const m = / (request|response|unparsed) (\d+)$/.exec(all.toString('latin1', i, nl));
    if (m === null) throw new Error('bad trace line');
    const end = nl + 1 + Number(m[2]);
    if (end + 1 > all.length) break;
    expect(all[end]).toBe(0x0a);
    out.push({ kind: m[1]!, head: all.toString('latin1', nl + 1, end) });
    i = end + 1;
  }
  return out;
}

let dir: string;
let server: RunningServer | undefined;
beforeAll(() => (dir = scratch('auth-logs-')));
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => removeScratch(dir));

test('--trace redacts Authorization and Proxy-Authorization values, parsed or rejected; --access-log never has them', async () => {
  const trace = path.join(dir, 'trace.bin');
  const log = path.join(dir, 'access.json');
  server = await startServer(['--auth', `alice:${PASSWORD}`, '--trace', trace, '--access-log', log, '--log-format', 'json']);
  const c = await RawClient.connect(server.port);
  c.send(`GET /echo/a HTTP/1.1\r\nHost: x\r\nauthorization: ${AUTH}\r\nProxy-Authorization: Basic ${BASE64}\r\n\r\n`);
  expect((await c.readResponse()).status).toBe(200);
  c.send(`GET /echo/b HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}x\r\n\r\n`); // a wrong one
  expect((await c.readResponse()).status).toBe(401);
  c.close();
  const bad = await RawClient.connect(server.port);
  bad.send(`GET /x HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\nBad Field: y\r\n\r\n`);
  expect((await bad.readResponse()).status).toBe(400);
  bad.close();

  await waitFor(() => records(trace).length >= 6, 'six trace records', 5000);
  const recs = records(trace);
  expect(recs.map((r) => r.kind)).toEqual(['request', 'response', 'request', 'response', 'unparsed', 'response']);
  expect(recs[0]!.head).toBe('GET /echo/a HTTP/1.1\r\nHost: x\r\nauthorization: Basic [redacted]\r\nProxy-Authorization: Basic [redacted]\r\n\r\n');
  expect(recs[2]!.head).toBe('GET /echo/b HTTP/1.1\r\nHost: x\r\nAuthorization: Basic [redacted]\r\n\r\n');
  expect(recs[4]!.head).toBe('GET /x HTTP/1.1\r\nHost: x\r\nAuthorization: Basic [redacted]\r\nBad Field: y\r\n\r\n');
  expect(recs[3]!.head).toContain('WWW-Authenticate: Basic realm="files", charset="UTF-8"');

  await server.stop(); // flushes the access log
  server = undefined;
  const everything = [readFileSync(trace, 'latin1'), readFileSync(log, 'latin1')].join('\n');
  expect(readFileSync(log, 'utf8').trim().split('\n').map((l) => JSON.parse(l).status)).toEqual([200, 401, 400]);
  for (const secret of [PASSWORD, BASE64, BASE64.slice(0, 12)]) expect(everything).not.toContain(secret);
});

test('a combined access log on stdout carries no credentials either', async () => {
  server = await startServer(['--auth', `alice:${PASSWORD}`, '--access-log', '--log-format', 'combined']);
  const c = await RawClient.connect(server.port);
  c.send(`GET /echo/a HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}\r\n\r\n`);
  expect((await c.readResponse()).status).toBe(200);
  c.send(`GET /echo/${encodeURIComponent('b')} HTTP/1.1\r\nHost: x\r\nAuthorization: ${AUTH}zz\r\n\r\n`);
  expect((await c.readResponse()).status).toBe(401);
  c.close();
  await server.stop();
  const out = server.output();
  expect(out).toMatch(/"GET \/echo\/a HTTP\/1\.1" 200 /);
  expect(out).toMatch(/"GET \/echo\/b HTTP\/1\.1" 401 /);
  for (const secret of [PASSWORD, BASE64.slice(0, 12)]) expect(out).not.toContain(secret);
  server = undefined;
});
