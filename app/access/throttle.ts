/**
 * Throttling of failed logins, per client: after {@link ThrottleOptions.maxFailures}
 * failures within a window, the client is answered `429 Too Many Requests`
 * with `Retry-After` (RFC 6585 §4, RFC 9110 §10.2.3) until its block ends.
 * Other clients are never slowed. Checks still running count against the
 * budget, so a client cannot start a hundred guesses at once.
 *
 * Memory is bounded: at most {@link ThrottleOptions.maxClients} entries;
 * when full, expired ones are swept and then the oldest dropped.
 */

import net from 'node:net';

/** Limits of a {@link FailureThrottle}; times in milliseconds. */
export interface ThrottleOptions {
  /** Failures (checks running included) within {@link windowMs} that start a block. Default 10. */
  readonly maxFailures?: number;
  /** Default 60,000. */
  readonly windowMs?: number;
  /** How long a block lasts. Default 60,000. */
  readonly blockMs?: number;
  /** Clients remembered at most. Default 10,000. */
  readonly maxClients?: number;
}

interface Entry {
  windowStart: number;
  failures: number;
  running: number;
  blockedUntil: number;
}

/**
 * The throttling key of a client address: an IPv4 address (IPv4-mapped
 * IPv6 included) as is, an IPv6 address by its /64, since one host
 * usually holds a whole /64.
 */
export function clientKey(address: string): string {
  if (address.startsWith('::ffff:') && net.isIPv4(address.slice(7))) return address.slice(7);
  if (!net.isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '').toLowerCase()).join(':')}::/64`;
}

/** Counts failures per client key and says who must wait. */
export class FailureThrottle {
  private readonly maxFailures: number;
  private readonly windowMs: number;
  private readonly blockMs: number;
  private readonly maxClients: number;
  private readonly entries = new Map<string, Entry>();

  constructor(options: ThrottleOptions = {}) {
    this.maxFailures = options.maxFailures ?? 10;
    this.windowMs = options.windowMs ?? 60_000;
    this.blockMs = options.blockMs ?? 60_000;
    this.maxClients = options.maxClients ?? 10_000;
  }

  /** Clients remembered now. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * @param now ms since the epoch.
   * @returns whole seconds `key` must still wait (for `Retry-After`), 0 when it may try.
   */
  retryAfter(key: string, now: number): number {
    const e = this.live(key, now);
    if (e === undefined) return 0;
    if (e.blockedUntil > now) return Math.ceil((e.blockedUntil - now) / 1000);
    if (e.failures + e.running >= this.maxFailures) return Math.ceil(this.windowMs / 1000);
    return 0;
  }

  /** A check for `key` starts; {@link end} must follow. */
  begin(key: string, now: number): void {
    this.entry(key, now).running++;
  }

  /** The check begun for `key` ended; a failure counts. */
  end(key: string, ok: boolean, now: number): void {
    const e = this.entry(key, now);
    if (e.running > 0) e.running--;
    if (!ok) this.failure(key, now);
    else if (e.failures === 0 && e.running === 0 && e.blockedUntil <= now) this.entries.delete(key);
  }

  /** Counts a failure that needed no check (malformed credentials). */
  failure(key: string, now: number): void {
    const e = this.entry(key, now);
    e.failures++;
    if (e.failures >= this.maxFailures && e.blockedUntil <= now) e.blockedUntil = now + this.blockMs;
  }

  /** The entry of `key` with its window renewed if it ran out; `undefined` if none or expired. */
  private live(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (now - e.windowStart >= this.windowMs && e.blockedUntil <= now) {
      if (e.running === 0) {
        this.entries.delete(key);
        return undefined;
      }
      e.windowStart = now;
      e.failures = 0;
    }
    return e;
  }

  private entry(key: string, now: number): Entry {
    const e = this.live(key, now);
    if (e !== undefined) return e;
    if (this.entries.size >= this.maxClients) this.makeRoom(now);
    const fresh: Entry = { windowStart: now, failures: 0, running: 0, blockedUntil: 0 };
    this.entries.set(key, fresh);
    return fresh;
  }

  /** Drops expired entries; if none expired, the oldest tenth. */
  private makeRoom(now: number): void {
    for (const [k, e] of this.entries) {
      if (e.running === 0 && e.blockedUntil <= now && now - e.windowStart >= this.windowMs) this.entries.delete(k);
    }
    if (this.entries.size < this.maxClients) return;
    let n = Math.max(1, Math.floor(this.maxClients / 10));
    for (const k of this.entries.keys()) {
      if (n-- === 0) break;
      this.entries.delete(k);
    }
  }
}
