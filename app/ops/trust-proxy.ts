/**
 * `--trust-proxy ADDR,...`: the client of an exchange is what a trusted
 * proxy says it forwards for, from `Forwarded` (RFC 7239) or else
 * `X-Forwarded-For` — only when the connection comes from a listed address.
 *
 * The list of hops is read from the right (the proxy nearest to us) and
 * every trusted hop is skipped: the client is the first hop that is not
 * trusted (so a client cannot forge its address by sending its own header
 * through the proxy), or the leftmost when all are trusted.
 */

import net from 'node:net';
import type { ExchangeRecord } from '../http/connection.js';
import type { Client, ClientResolver } from './access-log.js';
import { peerClient } from './access-log.js';

/**
 * Parses `--trust-proxy`: addresses (IPv4, IPv6) or subnets in CIDR form,
 * comma-separated, e.g. `127.0.0.1,10.0.0.0/8,::1`.
 * @throws Error naming the first entry that is neither.
 */
export function parseTrustList(text: string): net.BlockList {
  const list = new net.BlockList();
  for (const raw of text.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    const [addr, bits, extra] = entry.split('/');
    const family = net.isIPv4(addr!) ? 'ipv4' : net.isIPv6(addr!) ? 'ipv6' : null;
    const prefix = bits === undefined ? null : Number(bits);
    const max = family === 'ipv4' ? 32 : 128;
    if (family === null || extra !== undefined || (prefix !== null && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max && bits !== ''))) {
      throw new Error(`--trust-proxy: ${entry} is not an IP address or a subnet (ADDR/BITS)`);
    }
    if (prefix === null) list.addAddress(addr!, family);
    else list.addSubnet(addr!, prefix, family);
  }
  return list;
}

/** An IPv4-mapped IPv6 address (a v4 peer on a `::` socket) as plain IPv4. */
function plain(address: string): string {
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function trusted(list: net.BlockList, address: string): boolean {
  const a = plain(address);
  if (net.isIPv4(a)) return list.check(a, 'ipv4');
  if (net.isIPv6(a)) return list.check(a, 'ipv6');
  return false; // `unknown`, an obfuscated identifier: never a trusted proxy
}

/** Splits on `sep` outside quoted-strings (RFC 9110 §5.6.4). */
function splitOutsideQuotes(s: string, sep: string): string[] {
  const parts: string[] = [];
  let quoted = false;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\' && quoted) i++;
    else if (c === '"') quoted = !quoted;
    else if (c === sep && !quoted) {
      parts.push(s.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(s.slice(start));
  return parts;
}

/** A node of `for=` (RFC 7239 §6): `192.0.2.60`, `"[2001:db8::17]:4711"`, `"192.0.2.43:47011"`, `unknown`, `_hidden`. */
export function parseNode(value: string): Client {
  let v = value.trim();
  if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1).replace(/\\(.)/g, '$1');
  let port: number | null = null;
  const bracket = /^\[([^\]]*)\](?::(\d{1,5}))?$/.exec(v);
  if (bracket !== null) {
    v = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else {
    const v4port = /^([0-9.]+):(\d{1,5})$/.exec(v);
    if (v4port !== null) {
      v = v4port[1]!;
      port = Number(v4port[2]);
    }
  }
  return { address: v, port: port !== null && port <= 65535 ? port : null };
}

/** The `for=` nodes of every `Forwarded` element, left to right; `null` when no element has one. */
export function forwardedFor(values: string[]): Client[] | null {
  const nodes: Client[] = [];
  for (const element of splitOutsideQuotes(values.join(','), ',')) {
    for (const pair of splitOutsideQuotes(element, ';')) {
      const eq = pair.indexOf('=');
      if (eq === -1) continue;
      if (pair.slice(0, eq).trim().toLowerCase() === 'for') nodes.push(parseNode(pair.slice(eq + 1)));
    }
  }
  return nodes.length > 0 ? nodes : null;
}

/**
 * The client resolver for `--trust-proxy`: the peer, unless the peer is
 * listed; then the first untrusted hop from the right of `Forwarded`'s
 * `for=` nodes, or else of `X-Forwarded-For`.
 */
export function trustProxy(list: net.BlockList): ClientResolver {
  return (rec: ExchangeRecord) => {
    const peer = peerClient(rec);
    const fields = rec.request?.fields;
    if (fields === undefined || !trusted(list, peer.address)) return peer;
    let hops = forwardedFor(fields.getAll('forwarded'));
    if (hops === null) {
      const xff = fields.getAll('x-forwarded-for');
      if (xff.length === 0) return peer;
      hops = xff.join(',').split(',').map((h) => parseNode(h)).filter((h) => h.address !== '');
      if (hops.length === 0) return peer;
    }
    for (let i = hops.length - 1; i >= 0; i--) if (!trusted(list, hops[i]!.address)) return hops[i]!;
    return hops[0]!;
  };
}
