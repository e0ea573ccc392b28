// The create-only (If-None-Match: *) and replace-only (If-Match) upload
// guarantees hold across worker processes: each name's check-and-commit
// is one step for every process (app/files/upload-lock.ts).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Runtime } from '../helpers/server';
import { partials, removeScratch, scratch, send, tree } from '../uploads/helpers';
import { bannerPids, type Launched, launch, wholeBanner } from './helpers';

jest.setTimeout(60_000);

const ROUNDS = 8;
const RACERS = 50;

describe.each<Runtime>(['node', 'bun'])('two workers under %s', (rt) => {
  let dir: string;
  let server: Launched;
  let port: number;
  beforeAll(async () => {
    dir = scratch('ops-uploads-');
    server = launch(['--host', '127.0.0.1', '--port', '0', '--directory', dir, '--workers', '2'], rt);
    expect(bannerPids(await wholeBanner(server))).toHaveLength(2);
    port = server.port();
  });
  afterAll(async () => {
    await server.stop();
    removeScratch(dir);
  });
  // No temporary file and no lock is left behind, and none is ever listed.
  afterEach(() => {
    expect(partials(dir)).toEqual([]);
    expect(tree(dir).filter((p) => p.includes('.upload-'))).toEqual([]);
  });

  test(`${RACERS} concurrent create-only PUTs of one name: exactly one 201, the rest 412 (${ROUNDS} names)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = `new-${round}.txt`;
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, i) => send(port, 'PUT', `/files/${name}`, `body ${i}\n`, { 'If-None-Match': '*' })),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 201)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(RACERS - 1);
      const winner = statuses.indexOf(201);
      expect(readFileSync(path.join(dir, name), 'utf8')).toBe(`body ${winner}\n`);
      expect(results[winner]!.header('etag')).toBeDefined();
    }
  });

  test(`${RACERS} concurrent replace-only PUTs naming one version: exactly one 204, the rest 412`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const name = `old-${round}.txt`;
      writeFileSync(path.join(dir, name), 'the first version\n');
      const etag = (await send(port, 'HEAD', `/files/${name}`)).header('etag')!;
      expect(etag).toBeDefined();
      const results = await Promise.all(
        Array.from({ length: RACERS }, (_, i) => send(port, 'PUT', `/files/${name}`, `version ${i}\n`, { 'If-Match': etag })),
      );
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s === 204)).toHaveLength(1);
      expect(statuses.filter((s) => s === 412)).toHaveLength(RACERS - 1);
      expect(readFileSync(path.join(dir, name), 'utf8')).toBe(`version ${statuses.indexOf(204)}\n`);
    }
  });
});
