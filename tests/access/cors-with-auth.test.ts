// CORS and authentication together, as composed in app/main.ts: the CORS
// policy wraps authentication, so a preflight (which carries no
// credentials) is answered 204 without a login, while the request it
// announces still needs one; a refusal carries the CORS fields, so the
// calling page can read its 401 rather than see a network error.
import fs from 'node:fs';
import path from 'node:path';
import { type RunningServer, startServer } from '../helpers/server';
import { send, tempDir } from '../files/support';
import { send as sendBody } from '../uploads/helpers';

const APP = 'https://app.example';
let dir: string;
let server: RunningServer;
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

beforeAll(async () => {
  dir = tempDir('cors-auth');
  server = await startServer(['--directory', dir, '--cors', APP, '--auth', 'alice:s3cret']);
});
afterAll(async () => {
  await server.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a preflight without credentials is 204 with the CORS fields; it never meets the login', async () => {
  const res = await send(server.port, '/files/new.txt', { Origin: APP, 'Access-Control-Request-Method': 'PUT', 'Access-Control-Request-Headers': 'authorization,if-none-match' }, 'OPTIONS');
  expect(res.status).toBe(204);
  expect(res.header('Access-Control-Allow-Origin')).toBe(APP);
  expect(res.header('Access-Control-Allow-Credentials')).toBe('true');
  expect(res.header('Access-Control-Allow-Methods')).toContain('PUT');
  expect(res.header('WWW-Authenticate')).toBeUndefined();
});

test('the request itself without a login is 401, readable by the page; with the login it is stored', async () => {
  const refused = await sendBody(server.port, 'PUT', '/files/new.txt', 'payload', { Origin: APP });
  expect(refused.status).toBe(401);
  expect(refused.header('WWW-Authenticate')).toMatch(/^Basic realm="[^"]*", charset="UTF-8"$/);
  expect(refused.header('Access-Control-Allow-Origin')).toBe(APP);
  expect(fs.existsSync(path.join(dir, 'new.txt'))).toBe(false);
  const stored = await sendBody(server.port, 'PUT', '/files/new.txt', 'payload', { Origin: APP, Authorization: basic('alice', 's3cret') });
  expect(stored.status).toBe(201);
  expect(stored.header('Access-Control-Allow-Origin')).toBe(APP);
  expect(fs.readFileSync(path.join(dir, 'new.txt'), 'utf8')).toBe('payload');
});

test('an OPTIONS that is not a preflight (no Access-Control-Request-Method) still needs the login', async () => {
  const res = await send(server.port, '/files/', { Origin: APP }, 'OPTIONS');
  expect(res.status).toBe(401);
});
