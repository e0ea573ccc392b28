/**
 * The thread that verifies hashed passwords (see `password-check.ts`):
 * bcrypt and SHA-crypt take tens of milliseconds of CPU each, which would
 * otherwise hold the event loop and every other client with it.
 *
 * Message in: `{ id, kind: 'bcrypt' | 'sha-crypt', password, hash }`;
 * message out: `{ id, ok }`. Both libraries compare the final hashes in
 * constant time; a hash they reject counts as a mismatch.
 */

import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import { verify } from 'unixcrypt';

interface Job {
  readonly id: number;
  readonly kind: 'bcrypt' | 'sha-crypt';
  readonly password: string;
  readonly hash: string;
}

parentPort!.on('message', (job: Job) => {
  let ok = false;
  try {
    ok = job.kind === 'bcrypt' ? bcrypt.compareSync(job.password, job.hash) : verify(job.password, job.hash);
  } catch {
    ok = false;
  }
  parentPort!.postMessage({ id: job.id, ok });
});
