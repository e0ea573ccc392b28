/**
 * Helpers of the access-policy tests: htpasswd lines made with the same
 * libraries the server verifies with (bcryptjs; unixcrypt, an ES module,
 * run in a child Node since jest loads CommonJS), Basic credentials, and
 * one raw request on its own connection.
 */

import { execFileSync } from 'node:child_process';
import bcrypt from 'bcryptjs';
import { ROOT } from '../helpers/server';
import { RawClient, type WireResponse } from '../helpers/wire';

/** A bcrypt hash of `password` (cost 4: the cheapest, for fast tests), as `$2y$` like `htpasswd -B`. */
export function bcryptHash(password: string, cost = 4): string {
  return bcrypt.hashSync(password, cost).replace(/^\$2b\$/, '$2y$');
}

/** SHA-crypt hashes of `passwords`, each with the salt spec given (`$5$salt`, `$6$rounds=6000$salt`), made by unixcrypt. */
export function shaCrypt(pairs: Array<[password: string, salt: string]>): string[] {
  const code = `import { encrypt } from 'unixcrypt'; const pairs = JSON.parse(process.argv[1]); console.log(JSON.stringify(pairs.map(([p, s]) => encrypt(p, s))));`;
  return JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', code, JSON.stringify(pairs)], { cwd: ROOT, encoding: 'utf8' })) as string[];
}

/** The `Authorization` value for `user` and `password` (UTF-8, RFC 7617). */
export function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}`;
}

/** Sends raw `head` (and `body`) on a new connection and reads one response. */
export async function exchange(port: number, head: string, body: Buffer | string = ''): Promise<WireResponse> {
  const c = await RawClient.connect(port);
  try {
    c.send(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.isBuffer(body) ? body : Buffer.from(body)]));
    return await c.readResponse({ head: head.startsWith('HEAD '), timeoutMs: 15000 });
  } finally {
    c.close();
  }
}
