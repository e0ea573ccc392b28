// Issue 12 item 3: a folder's redirect to its slash-ended URL never leaves
// the origin. With a folder named like a host under --root (and under
// --directory), no spelling of its path may yield a Location that a browser
// reads as another host (`//host`, `/\host`) or as an absolute URL.
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { send, tempDir, writeTree } from './support';

let root: string;
let files: string;
let server: RunningServer;

beforeAll(async () => {
  root = tempDir('redirect-root');
  files = tempDir('redirect-files');
  for (const d of [root, files]) writeTree(d, { 'evil.example/index.html': '<p>a folder</p>', 'evil.example/x/y.txt': 'y' });
  server = await startServer(['--root', root, '--directory', files]);
});
afterAll(async () => {
  await server.stop();
  for (const d of [root, files]) fs.rmSync(d, { recursive: true, force: true });
});

const SPELLINGS = [
  '//evil.example',
  '///evil.example',
  '//evil.example/x',
  '/./evil.example',
  '/.//evil.example',
  '/%2F%2Fevil.example',
  '/%2f/evil.example',
  '/./%2f/evil.example',
  '/%2e/evil.example',
  '/%5Cevil.example',
  '/\\evil.example',
  '/%09/evil.example',
  '//evil.example?next=//evil.example',
  '/evil.example',
  '/evil.example/x',
  '/evil%2Eexample',
];

/** A Location that stays on this origin: a path starting with exactly one `/`, no scheme, no backslash. */
function staysOnOrigin(location: string): boolean {
  return location.startsWith('/') && !location.startsWith('//') && !location.includes('\\') && !/^[a-z][a-z0-9+.-]*:/i.test(location);
}

describe.each([
  ['the --root site', ''],
  ['/files/', '/files'],
])('%s', (_name, prefix) => {
  test.each(SPELLINGS)('%s', async (spelling) => {
    const target = prefix + spelling;
    const res = await send(server.port, target);
    const location = res.header('location');
    if (location !== undefined) {
      expect(res.status).toBe(301);
      expect(staysOnOrigin(location)).toBe(true);
      // Following it lands on the folder, on this server.
      const next = await send(server.port, location);
      expect([200, 404]).toContain(next.status);
    } else {
      expect([200, 400, 404]).toContain(res.status);
    }
  });
});

test('the spelling of the report is redirected to the folder on this origin', async () => {
  const res = await send(server.port, '//evil.example');
  expect(res.status).toBe(301);
  expect(res.header('location')).toBe('/evil.example/');
  const files = await send(server.port, '/files//evil.example');
  expect(files.header('location')).toBe('/files/evil.example/');
});

test('the redirect of a folder keeps the query and re-encodes the name', async () => {
  fs.mkdirSync(path.join(root, 'a b?c'));
  const res = await send(server.port, '//a%20b%3Fc?sort=name');
  expect(res.status).toBe(301);
  expect(res.header('location')).toBe('/a%20b%3Fc/?sort=name');
});
