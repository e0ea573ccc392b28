/**
 * Credentials verified lately, so that a keep-alive client (or a browser
 * sending the same `Authorization` with every request) pays for bcrypt
 * once, not per request. Keyed by the SHA-256 of the exact `Authorization`
 * field value: the value itself is never kept. Bounded (least recently
 * used dropped first) with a short time to live, since a fast hash of a
 * password is weaker than the bcrypt it stands in for.
 */

import { hash } from 'node:crypto';

/** The cache key of an `Authorization` field value: the SHA-256 of its UTF-8 encoding, base64. */
export function credentialKey(authorization: string): string {
  return hash('sha256', authorization, 'base64'); // one-shot: a quarter of createHash's cost
}

/** A bounded LRU of verified credential keys, each with its expiry. */
export class VerifiedCredentials {
  private readonly entries = new Map<string, number>();

  /**
   * @param maxEntries keys kept at most (default 1,024).
   * @param ttlMs how long a verification is trusted, in ms (default 60,000).
   */
  constructor(
    private readonly maxEntries = 1024,
    private readonly ttlMs = 60_000,
  ) {}

  /** True when `key` was verified less than the TTL ago (and marks it recently used). */
  has(key: string, now: number): boolean {
    const expires = this.entries.get(key);
    if (expires === undefined) return false;
    this.entries.delete(key);
    if (expires <= now) return false;
    this.entries.set(key, expires);
    return true;
  }

  /** Records `key` as verified at `now` (ms since the epoch). */
  add(key: string, now: number): void {
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, now + this.ttlMs);
  }
}
