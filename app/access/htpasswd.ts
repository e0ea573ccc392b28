/**
 * The user table: who may log in, read from `--auth USER:PASSWORD` options
 * and an `--auth-file` in Apache's htpasswd format (one `user:hash` per
 * line). Only parsing and checking the shape of each hash happens here, at
 * startup, so that a bad line stops the server with an error naming it;
 * verifying a password is `password-check.ts`'s job.
 *
 * Hashes accepted: bcrypt (`$2a$`, `$2b$`, `$2y$`, as `htpasswd -B` makes)
 * and SHA-256/SHA-512 crypt (`$5$`, `$6$`, as `openssl passwd -5/-6` and
 * `mkpasswd` make). Refused, each with the reason: Apache MD5 (`$apr1$`),
 * MD5 crypt (`$1$`), unsalted SHA-1 (`{SHA}`), DES crypt and plain text.
 */

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** How one user's password is checked. */
export type Credential =
  /** bcrypt; `cost` is log2 of its rounds (4-31). */
  | { readonly kind: 'bcrypt'; readonly hash: string; readonly cost: number }
  /** SHA-crypt (Drepper's SHA-256/512 crypt); `rounds` 1,000-{@link MAX_SHA_CRYPT_ROUNDS}. */
  | { readonly kind: 'sha-crypt'; readonly hash: string; readonly rounds: number }
  /** A password given on the command line: only its SHA-256 is kept, to compare in constant time. */
  | { readonly kind: 'plain'; readonly sha256: Buffer };

/** User name → how its password is checked. Names are compared exactly (case-sensitive). */
export type UserTable = ReadonlyMap<string, Credential>;

/**
 * Most SHA-crypt rounds accepted (passlib's default is 656,000; the format
 * allows 999,999,999, which would take the verifier hours per attempt).
 */
export const MAX_SHA_CRYPT_ROUNDS = 2_000_000;

const BCRYPT_RE = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
// $5$ or $6$, optional canonical rounds=N, a salt of at most 16 characters, the hash.
const SHA_CRYPT_RE = /^\$([56])\$(?:rounds=([1-9]\d*)\$)?([./A-Za-z0-9]{0,16})\$([./A-Za-z0-9]+)$/;

/**
 * Reads one hash as written after `user:` in an htpasswd file.
 * @returns its {@link Credential}.
 * @throws Error saying why the hash is refused and how to make one that is not.
 */
export function parseHash(hash: string): Credential {
  const bcrypt = BCRYPT_RE.exec(hash);
  if (bcrypt !== null) {
    const cost = Number(bcrypt[1]);
    if (cost < 4 || cost > 31) throw new Error(`bcrypt cost ${cost} is outside 4-31`);
    return { kind: 'bcrypt', hash, cost };
  }
  const sha = SHA_CRYPT_RE.exec(hash);
  if (sha !== null) {
    const rounds = sha[2] === undefined ? 5000 : Number(sha[2]);
    if (sha[4]!.length !== (sha[1] === '5' ? 43 : 86)) throw new Error(`a $${sha[1]}$ hash has the wrong length`);
    if (rounds < 1000 || rounds > MAX_SHA_CRYPT_ROUNDS) throw new Error(`SHA-crypt rounds ${rounds} are outside 1000-${MAX_SHA_CRYPT_ROUNDS}`);
    return { kind: 'sha-crypt', hash, rounds };
  }
  const remake = 'make the line again with `htpasswd -B` (bcrypt) or `openssl passwd -6` (SHA-512 crypt)';
  if (hash.startsWith('$apr1$')) throw new Error(`Apache MD5 ($apr1$) hashes are not supported: ${remake}`);
  if (hash.startsWith('$1$')) throw new Error(`MD5 crypt ($1$) hashes are not supported: ${remake}`);
  if (hash.startsWith('{SHA}')) throw new Error(`unsalted SHA-1 ({SHA}) hashes are not supported: ${remake}`);
  if (/^[./A-Za-z0-9]{13}$/.test(hash)) throw new Error(`DES crypt hashes are not supported: ${remake}`);
  if (/^\$(2[aby]?|5|6)\$/.test(hash)) throw new Error(`a malformed ${hash.slice(0, hash.indexOf('$', 1) + 1)} hash`);
  throw new Error(`not a bcrypt or SHA-crypt hash (plain-text passwords are not accepted in a file): ${remake}`);
}

/** A user-id may not be empty nor hold `:` or control characters (RFC 7617 §2). */
function checkUser(user: string): string | undefined {
  if (user.length === 0) return 'an empty user name';
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(user)) return 'a control character in the user name';
  return undefined;
}

/**
 * Parses an htpasswd file's text: `user:hash` lines; empty lines and lines
 * starting with `#` are skipped; CRLF line ends, trailing blanks and a
 * leading byte order mark are accepted.
 * @param name the file name, for error messages.
 * @returns the users, in file order.
 * @throws Error naming the file and line of the first bad line (unknown or
 *   refused hash, no `:`, empty or repeated user), or when no user is found.
 */
export function parseHtpasswd(text: string, name: string): Map<string, Credential> {
  const users = new Map<string, Credential>();
  const lines = text.replace(/^\uFEFF/, '').split('\n'); // a byte order mark from an editor is not part of the first name
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/[ \t\r]+$/, ''); // CRLF files, trailing blanks
    if (line.trim() === '' || line.startsWith('#')) continue;
    const where = `--auth-file ${name} line ${i + 1}`;
    const colon = line.indexOf(':');
    if (colon === -1) throw new Error(`${where}: expected user:hash`);
    const user = line.slice(0, colon);
    const bad = checkUser(user);
    if (bad !== undefined) throw new Error(`${where}: ${bad}`);
    if (users.has(user)) throw new Error(`${where}: user ${user} appears twice`);
    try {
      users.set(user, parseHash(line.slice(colon + 1)));
    } catch (e) {
      throw new Error(`${where} (user ${user}): ${(e as Error).message}`);
    }
  }
  if (users.size === 0) throw new Error(`--auth-file ${name}: no user:hash line`);
  return users;
}

/**
 * Builds the user table from the command line.
 * @param pairs `--auth` values, each `USER:PASSWORD` (the password may hold `:`).
 * @param file `--auth-file` path, or `undefined`.
 * @returns the table, or `undefined` when neither option was given.
 * @throws Error naming the bad value or line: an unreadable file, a value
 *   without `:`, an empty password, a user given twice.
 */
export function loadUsers(pairs: readonly string[], file: string | undefined): UserTable | undefined {
  if (pairs.length === 0 && file === undefined) return undefined;
  let users = new Map<string, Credential>();
  if (file !== undefined) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new Error(`--auth-file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    users = parseHtpasswd(text, file);
  }
  for (const pair of pairs) {
    const colon = pair.indexOf(':');
    if (colon === -1) throw new Error(`--auth needs USER:PASSWORD, got ${JSON.stringify(pair.slice(0, 40))}`);
    const user = pair.slice(0, colon);
    const bad = checkUser(user);
    if (bad !== undefined) throw new Error(`--auth: ${bad}`);
    if (colon === pair.length - 1) throw new Error(`--auth ${user}: the password is empty`);
    if (users.has(user)) throw new Error(`--auth ${user}: this user is given twice`);
    users.set(user, { kind: 'plain', sha256: createHash('sha256').update(pair.slice(colon + 1), 'utf8').digest() });
  }
  return users;
}
