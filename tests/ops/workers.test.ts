// --workers N: N processes serve one port, under Node (node:cluster) and
// under Bun (reusePort children). A worker that dies is replaced, after a
// pause that grows when replacements die quickly; SIGTERM to the primary
// stops every worker.
import os from 'node:os';
import { request } from '../helpers/wire';
import type { Runtime } from '../helpers/server';
import { bannerPids, type Launched, launch, parentOf, running, until, wholeBanner } from './helpers';

jest.setTimeout(60_000);

const GET = 'GET /echo/hi HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

/** Answers `count` requests on new connections, all 200 with the echoed body. */
async function answers(port: number, count = 10): Promise<void> {
  for (let i = 0; i < count; i++) {
    const res = await request(port, GET);
    expect(res.status).toBe(200);
    expect(res.body.toString()).toBe('hi');
  }
}

/** The PID of the `n`th "worker <pid> is serving" line on stderr, once there is one. */
function servingPid(s: Launched, n: number): number | undefined {
  const all = [...s.stderr().matchAll(/^worker (\d+) is serving$/gm)];
  return all.length > n ? Number(all[n]![1]) : undefined;
}

describe.each<Runtime>(['node', 'bun'])('under %s', (rt) => {
  let server: Launched;
  let port: number;
  let workers: number[];

  beforeAll(async () => {
    server = launch(['--host', '127.0.0.1', '-p', '0', '--workers', '2'], rt);
    workers = bannerPids(await wholeBanner(server));
    port = server.port();
  });
  afterAll(async () => {
    await server.stop();
  });

  test('prints one "Listening on" line on stdout, and the banner names two worker processes, children of the primary', async () => {
    expect(server.stdout().trim().split('\n')).toHaveLength(1);
    expect(workers).toHaveLength(2);
    expect(new Set(workers).size).toBe(2);
    for (const pid of workers) {
      expect(pid).not.toBe(server.pid);
      expect(parentOf(pid)).toBe(server.pid);
    }
    await answers(port);
  });

  test('a worker that is killed is replaced; the other serves the port meanwhile', async () => {
    const [victim, survivor] = workers as [number, number];
    process.kill(victim, 'SIGKILL');
    await until(() => server.stderr().includes(`worker ${victim} was killed by SIGKILL; starting another in 100 ms`), 'the death to be reported');
    await answers(port, 5); // the survivor alone, or with the replacement
    const replacement = await until(() => servingPid(server, 0), 'a replacement worker');
    expect([victim, survivor, server.pid]).not.toContain(replacement);
    expect(parentOf(replacement)).toBe(server.pid);
    expect(running(survivor)).toBe(true);
    await answers(port, 10);
    // The replacement serves too: with the survivor gone, the port still answers.
    process.kill(survivor, 'SIGKILL');
    await until(() => server.stderr().includes(`worker ${survivor} was killed by SIGKILL`), 'the second death');
    await answers(port, 5);
    workers = [replacement, await until(() => servingPid(server, 1), 'a second replacement')];
  });

  test('a replacement that dies quickly waits twice as long each time', async () => {
    let pid = workers[0]!;
    const before = [...server.stderr().matchAll(/is serving$/gm)].length;
    const pauses: number[] = [];
    for (let i = 0; i < 3; i++) {
      process.kill(pid, 'SIGKILL');
      const line = new RegExp(`^worker ${pid} was killed by SIGKILL; starting another in (\\d+) ms$`, 'm');
      pauses.push(Number((await until(() => line.exec(server.stderr()) ?? undefined, 'the death to be reported'))[1]));
      pid = await until(() => servingPid(server, before + i), 'the replacement');
    }
    // Each of these workers lived well under 10 s: the pause doubles (100 ms after one that served long).
    expect(pauses[0]).toBeGreaterThanOrEqual(100);
    expect(pauses[1]).toBe(pauses[0]! * 2);
    expect(pauses[2]).toBe(pauses[1]! * 2);
    await answers(port, 5);
    workers[0] = pid;
  });

  test('SIGTERM to the primary stops every worker, and it exits 0', async () => {
    const pids = workers;
    expect(pids.every(running)).toBe(true);
    expect(await server.stop(8000)).toBe(0);
    for (const pid of pids) expect(running(pid)).toBe(false);
  });
});

test('--workers auto starts one worker per CPU', async () => {
  const s = launch(['--host', '127.0.0.1', '--port', '0', '--workers', 'auto']);
  try {
    expect(bannerPids(await wholeBanner(s))).toHaveLength(os.availableParallelism());
    await answers(s.port(), 2);
  } finally {
    expect(await s.stop()).toBe(0);
  }
});

test('without --workers one process serves, with no worker processes', async () => {
  const s = launch(['--host', '127.0.0.1', '--port', '0']);
  try {
    expect(await wholeBanner(s)).toContain(`1 process (pid ${s.pid})`);
    await answers(s.port(), 2);
  } finally {
    expect(await s.stop()).toBe(0);
  }
});
