// Access logs with --workers: every worker appends to one file, so the
// primary starts it (a CSV log gets exactly one header row, not one per
// worker), and SIGHUP to the primary (the PID logrotate knows) reopens
// the file in every worker instead of ending the server.
import { existsSync, readFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { CSV_HEADER } from '../../app/ops/access-log';
import { removeScratch, scratch, send, waitFor } from '../uploads/helpers';
import { bannerPids, type Launched, launch, running, wholeBanner } from './helpers';

jest.setTimeout(60_000);

const text = (file: string) => (existsSync(file) ? readFileSync(file, 'latin1') : '');
const rows = (file: string) => text(file).split('\n').filter(Boolean);

describe('two workers writing one CSV log', () => {
  let dir: string;
  let log: string;
  let server: Launched;
  let port: number;
  let pids: number[];
  beforeAll(async () => {
    dir = scratch('ops-log-workers-');
    log = path.join(dir, 'access.csv');
    server = launch(['--host', '127.0.0.1', '--port', '0', '--workers', '2', '--access-log', log, '--log-format', 'csv']);
    pids = bannerPids(await wholeBanner(server));
    expect(pids).toHaveLength(2);
    port = server.port();
  });
  afterAll(async () => {
    await server.stop();
    removeScratch(dir);
  });

  /** Sends `n` requests on new connections (so both workers take some) and waits until `file` has `rowsWanted` rows. */
  async function load(n: number, tag: string, file: string, rowsWanted: number): Promise<void> {
    for (let i = 0; i < n; i++) expect((await send(port, 'GET', `/echo/${tag}-${i}`, undefined, { Connection: 'close' })).status).toBe(200);
    await waitFor(() => rows(file).length >= rowsWanted, `${rowsWanted} rows in ${path.basename(file)}`, 10_000);
  }

  test('a new file starts with exactly one header row, then one row per exchange', async () => {
    await load(20, 'first', log, 21);
    const all = rows(log);
    expect(`${all[0]}\n`).toBe(CSV_HEADER);
    expect(all.filter((r) => `${r}\n` === CSV_HEADER)).toHaveLength(1);
    expect(all.slice(1).map((r) => r.split(',')[6]).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `/echo/first-${i}`).sort());
  });

  test('SIGHUP to the primary: it keeps serving, and every worker writes to the new file, which has one header row', async () => {
    renameSync(log, `${log}.1`);
    server.process.kill('SIGHUP');
    await waitFor(() => existsSync(log), 'the primary to start the new file', 5000);
    await load(20, 'second', log, 21);
    const fresh = rows(log);
    expect(`${fresh[0]}\n`).toBe(CSV_HEADER);
    expect(fresh.filter((r) => `${r}\n` === CSV_HEADER)).toHaveLength(1);
    expect(fresh.slice(1).every((r) => r.split(',')[6]!.startsWith('/echo/second-'))).toBe(true);
    expect(rows(`${log}.1`).some((r) => r.includes('/echo/second-'))).toBe(false);
    expect(server.process.exitCode).toBeNull();
    for (const pid of pids) expect(running(pid)).toBe(true);
  });
});
