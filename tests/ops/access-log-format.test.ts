// The exact bytes of each access-log format, for an ordinary request, a
// hostile one (quotes, commas, backslashes, tabs, obs-text such as NEL in the
// fields a client chooses) and an engine error with no request at all.
import type { ExchangeRecord } from '../../app/http/connection';
import { DEFAULT_LIMITS, type RequestHead, RequestParser } from '../../app/http/parser';
import { CSV_HEADER, formatExchange, terminalLine } from '../../app/ops/access-log';

function head(raw: string): RequestHead {
  const p = new RequestParser(DEFAULT_LIMITS);
  p.push(Buffer.from(raw, 'latin1'));
  const ev = p.next();
  if (ev?.type !== 'head') throw new Error('no head');
  return ev.head;
}

const connection = { localAddress: '127.0.0.1', localPort: 4221, remoteAddress: '127.0.0.1', remotePort: 50123 };
const startTime = Date.UTC(2026, 10, 30, 19, 4, 5, 67); // 2026-11-30T19:04:05.067Z

const plain: ExchangeRecord = {
  request: head('GET /echo/abc HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8.5.0\r\nReferer: http://example.com/\r\n\r\n'),
  status: 200,
  bytesSent: 93,
  startTime,
  durationMs: 1.23456,
  aborted: false,
  connection,
};
const hostile: ExchangeRecord = {
  ...plain,
  request: head('GET /a"b\\c,d HTTP/1.0\r\nUser-Agent: x"y,\tz\x85w\xff\r\n\r\n'),
  status: 404,
};
const engineError: ExchangeRecord = { ...plain, request: null, status: 400, bytesSent: 100, durationMs: 0 };

describe('access log formats, exact bytes', () => {
  test('common', () => {
    expect(formatExchange('common', plain)).toBe('127.0.0.1 - - [30/Nov/2026:19:04:05 +0000] "GET /echo/abc HTTP/1.1" 200 93\n');
    expect(formatExchange('common', hostile)).toBe('127.0.0.1 - - [30/Nov/2026:19:04:05 +0000] "GET /a\\"b\\\\c,d HTTP/1.0" 404 93\n');
    expect(formatExchange('common', engineError)).toBe('127.0.0.1 - - [30/Nov/2026:19:04:05 +0000] "-" 400 100\n');
  });

  test('combined', () => {
    expect(formatExchange('combined', plain)).toBe(
      '127.0.0.1 - - [30/Nov/2026:19:04:05 +0000] "GET /echo/abc HTTP/1.1" 200 93 "http://example.com/" "curl/8.5.0"\n',
    );
    expect(formatExchange('combined', hostile)).toBe(
      '127.0.0.1 - - [30/Nov/2026:19:04:05 +0000] "GET /a\\"b\\\\c,d HTTP/1.0" 404 93 "-" "x\\"y,\\x09z\\x85w\\xff"\n',
    );
    expect(formatExchange('combined', engineError)).toBe('127.0.0.1 - - [30/Nov/2026:19:04:05 +0000] "-" 400 100 "-" "-"\n');
  });

  test('json', () => {
    expect(formatExchange('json', plain)).toBe(
      '{"time":"2026-11-30T19:04:05.067Z","serverAddress":"127.0.0.1","serverPort":4221,"clientAddress":"127.0.0.1","clientPort":50123,' +
        '"method":"GET","target":"/echo/abc","version":"HTTP/1.1","status":200,"bytesSent":93,"durationMs":1.235,' +
        '"userAgent":"curl/8.5.0","referer":"http://example.com/"}\n',
    );
    const line = formatExchange('json', hostile);
    expect(line).toBe(
      '{"time":"2026-11-30T19:04:05.067Z","serverAddress":"127.0.0.1","serverPort":4221,"clientAddress":"127.0.0.1","clientPort":50123,' +
        '"method":"GET","target":"/a\\"b\\\\c,d","version":"HTTP/1.0","status":404,"bytesSent":93,"durationMs":1.235,' +
        '"userAgent":"x\\"y,\\tz\\u0085w\\u00ff","referer":null}\n',
    );
    expect(JSON.parse(line).userAgent).toBe('x"y,\tz\x85w\xff'); // the bytes as received, latin1
    expect(formatExchange('json', engineError)).toBe(
      '{"time":"2026-11-30T19:04:05.067Z","serverAddress":"127.0.0.1","serverPort":4221,"clientAddress":"127.0.0.1","clientPort":50123,' +
        '"method":null,"target":null,"version":null,"status":400,"bytesSent":100,"durationMs":0.000,"userAgent":null,"referer":null}\n',
    );
  });

  test('csv, with its header row and RFC 4180 quoting', () => {
    expect(CSV_HEADER).toBe(
      'time,server_address,server_port,client_address,client_port,method,request_target,http_version,status,bytes_sent,duration_ms,user_agent\n',
    );
    expect(formatExchange('csv', plain)).toBe('2026-11-30T19:04:05.067Z,127.0.0.1,4221,127.0.0.1,50123,GET,/echo/abc,HTTP/1.1,200,93,1.235,curl/8.5.0\n');
    expect(formatExchange('csv', hostile)).toBe(
      '2026-11-30T19:04:05.067Z,127.0.0.1,4221,127.0.0.1,50123,GET,"/a""b\\\\c,d",HTTP/1.0,404,93,1.235,"x""y,\\x09z\\x85w\\xff"\n',
    );
    expect(formatExchange('csv', engineError)).toBe('2026-11-30T19:04:05.067Z,127.0.0.1,4221,127.0.0.1,50123,,,,400,100,0.000,\n');
  });

  test('no format lets a field add a line or a control character', () => {
    for (const format of ['common', 'combined', 'json', 'csv'] as const) {
      for (const rec of [plain, hostile, engineError]) {
        const line = formatExchange(format, rec);
        expect(line.indexOf('\n')).toBe(line.length - 1);
        expect(line.slice(0, -1)).toMatch(/^[\x20-\x7e]*$/);
      }
    }
  });

  test('the terminal line colours the status by class', () => {
    expect(terminalLine(plain, true)).toBe('19:04:05 GET /echo/abc \x1b[32m200\x1b[0m 1.2 ms\n');
    expect(terminalLine(hostile, true)).toBe('19:04:05 GET /a\\"b\\\\c,d \x1b[33m404\x1b[0m 1.2 ms\n');
    expect(terminalLine(engineError, false)).toBe('19:04:05 - - 400 0.0 ms\n');
  });
});
