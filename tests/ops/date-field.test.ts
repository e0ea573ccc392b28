// --date sends a Date field (RFC 9110 §6.6.1) on every response, engine
// errors included; by default there is none (the CodeCrafters tester
// rejects it), nor a Server field.
import { type RunningServer, startServer } from '../helpers/server';
import { request } from '../helpers/wire';

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

describe('the Date field', () => {
  let server: RunningServer | undefined;
  afterEach(async () => {
    await server?.stop();
    server = undefined;
  });

  test('--date: every response carries the current date, as IMF-fixdate', async () => {
    server = await startServer(['--date']);
    for (const raw of ['GET /echo/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n', 'BAD\r\n\r\n']) {
      const res = await request(server.port, raw);
      const date = res.header('date');
      expect(date).toMatch(IMF_FIXDATE);
      expect(Math.abs(Date.parse(date!) - Date.now())).toBeLessThan(5000);
      expect(res.fieldLines.filter(([n]) => n.toLowerCase() === 'date')).toHaveLength(1);
      expect(res.rawHead.split('\r\n')[1]).toMatch(/^Date: /); // right after the status-line
    }
  });

  test('by default: no Date and no Server field', async () => {
    server = await startServer([]);
    const res = await request(server.port, 'GET /echo/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(res.status).toBe(200);
    expect(res.header('date')).toBeUndefined();
    expect(res.header('server')).toBeUndefined();
  });
});
