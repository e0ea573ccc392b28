// The robustness table: malformed, ambiguous and hostile requests sent over
// raw TCP, each with the status it must get and whether the connection
// must close (RFC 9112 MUST/SHOULD rules and request-smuggling patterns).
// A request pipelined behind each one shows whether the framing was
// understood: it is answered next on a kept connection, never on a closed
// one. A normal request on a new connection after every row shows the
// server is unharmed.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { RawClient, request } from '../helpers/wire';
import { type Case, FOLLOW_UP, FOLLOW_UP_BODY } from './cases/case';
import { chunkedCases } from './cases/chunked';
import { contentLengthCases } from './cases/content-length';
import { headerFieldCases } from './cases/header-fields';
import { requestLineCases } from './cases/request-line';
import { semanticsCases } from './cases/semantics';
import { transferEncodingCases } from './cases/transfer-encoding';

const groups: [string, readonly Case[]][] = [
  ['request-line', requestLineCases],
  ['header fields', headerFieldCases],
  ['Content-Length', contentLengthCases],
  ['Transfer-Encoding and smuggling', transferEncodingCases],
  ['chunked coding', chunkedCases],
  ['methods, expectations, persistence', semanticsCases],
];

let server: RunningServer;
let dir: string;
let fileNumber = 0;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'robustness-'));
  server = await startServer([
    '--directory', dir,
    '--max-target-length', '256',
    '--max-header-size', '1024',
    '--max-header-count', '20',
    '--max-body-size', '1024',
  ]);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function check(c: Case): Promise<void> {
  const file = `c${++fileNumber}`;
  const bytes = c.send.replaceAll('$F', `/files/${file}`);
  const client = await RawClient.connect(server.port);
  try {
    client.send(c.alone === true ? bytes : bytes + FOLLOW_UP);
    const res = await client.readResponse({ head: c.head });
    const text = res.body.toString('latin1');
    expect(`${res.status} ${text}`).toBe(`${c.status} ${c.body ?? text}`);
    expect(text).not.toMatch(/\n\s+at .*:\d+/); // no stack trace, ever
    const connection = res.header('connection')?.toLowerCase();
    if (c.close) {
      expect(connection).toBe('close');
      await client.expectClosed(); // and nothing sent after the response
    } else {
      expect(connection).not.toBe('close');
      const next = await client.readResponse();
      expect(`${next.status} ${next.body.toString('latin1')}`).toBe(`200 ${FOLLOW_UP_BODY}`);
    }
    if (c.stored !== undefined) expect(fs.readFileSync(path.join(dir, file), 'latin1')).toBe(c.stored);
  } finally {
    client.close();
  }
  const fresh = await request(server.port, 'GET /echo/alive HTTP/1.1\r\nHost: x\r\n\r\n');
  expect(fresh.body.toString()).toBe('alive');
}

test('the table holds at least 150 distinct requests', () => {
  const all = groups.flatMap(([, cases]) => cases);
  expect(all.length).toBeGreaterThanOrEqual(150);
  expect(new Set(all.map((c) => c.send)).size).toBe(all.length);
  expect(new Set(all.map((c) => c.name)).size).toBe(all.length);
});

describe.each(groups)('%s', (_group, cases) => {
  test.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    await check(c);
  });
});

test('the server is still running', () => {
  expect(server.process.exitCode).toBeNull();
  expect(server.output()).not.toMatch(/uncaught|unhandled/i);
});
