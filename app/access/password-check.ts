/**
 * Checks a user's password against the {@link UserTable}, without saying by
 * its timing whether the user exists.
 *
 * bcrypt and SHA-crypt run on one worker thread (`password-worker.ts`), so
 * a check (~75 ms for bcrypt cost 10, ~25 ms for SHA-512 crypt) never holds
 * the event loop; checks queue there in order. A password given with
 * `--auth` is compared by SHA-256 digests in constant time. For an unknown
 * user the password is still verified, against the costliest hash in the
 * table, and the answer thrown away: an unknown name takes as long as the
 * slowest known one.
 */

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import type { Credential, UserTable } from './htpasswd.js';

/** Rough CPU cost of verifying `c`, in microseconds: only its order matters. */
function cost(c: Credential): number {
  if (c.kind === 'bcrypt') return 73 * 2 ** c.cost; // cost 10: ~75 ms
  if (c.kind === 'sha-crypt') return c.rounds * (c.hash.startsWith('$5$') ? 3.5 : 5.5); // 5,000 rounds: ~17 or ~27 ms
  return 1;
}

/** Verifies passwords; one per server process. */
export class PasswordChecker {
  private readonly decoy: Credential;
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (ok: boolean) => void; reject: (e: Error) => void }>();

  /** @param users the table; a worker thread starts now when it holds a hash. */
  constructor(private readonly users: UserTable) {
    let decoy: Credential = { kind: 'plain', sha256: randomBytes(32) };
    for (const c of users.values()) if (cost(c) > cost(decoy)) decoy = c;
    this.decoy = decoy;
    if (decoy.kind !== 'plain') this.thread();
  }

  /**
   * @returns whether `user` exists and `password` is theirs.
   * @throws Error (as a rejection) when the worker thread dies mid-check:
   *   the request then fails with 500, never passes.
   */
  async check(user: string, password: string): Promise<boolean> {
    const c = this.users.get(user);
    if (c === undefined) {
      await this.verify(this.decoy, password);
      return false;
    }
    return this.verify(c, password);
  }

  private verify(c: Credential, password: string): Promise<boolean> {
    if (c.kind === 'plain') {
      return Promise.resolve(timingSafeEqual(createHash('sha256').update(password, 'utf8').digest(), c.sha256));
    }
    return new Promise((resolve, reject) => {
      const id = this.nextId++;
      this.pending.set(id, { resolve, reject });
      this.thread().postMessage({ id, kind: c.kind, password, hash: c.hash });
    });
  }

  /** The worker thread, started (again, after a crash) when needed; it never keeps the process alive. */
  private thread(): Worker {
    if (this.worker !== null) return this.worker;
    // @ts-ignore -- ESM only: the tests' CommonJS typecheck does not know import.meta, and no test imports this module.
    const w = new Worker(new URL('./password-worker.js', import.meta.url));
    w.unref();
    w.on('message', (m: { id: number; ok: boolean }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p?.resolve(m.ok === true);
    });
    const fail = (err: Error) => {
      if (this.worker !== w) return;
      this.worker = null;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', (code) => fail(new Error(`password worker exited with ${code}`)));
    this.worker = w;
    return w;
  }
}
