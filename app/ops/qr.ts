/**
 * QR codes of the URL a phone on the same network can open: an SVG for the
 * listing page and block characters for the terminal banner, made with
 * `qrcode` (synchronous renderers; a few hundred µs per code) and kept per
 * URL in a small bounded cache.
 *
 * Which URL: a request's `Host` field names how the client reached us; when
 * it is a name or address another machine could use, that is the URL. When
 * it is loopback (`localhost`, `127.x.x.x`, `[::1]`) or unusable, the
 * machine's first non-internal IPv4 address takes its place, with the port
 * the `Host` field named.
 */

import os from 'node:os';
import QRCode from 'qrcode';
import type { Interfaces } from './banner.js';

/** `uri-host [ ":" port ]` (RFC 9110 §7.2) as far as a URL we print may hold: a bracketed IPv6 literal or letters, digits, `.`, `-`. */
const HOST_FIELD = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::([0-9]{1,5}))?$/;

/** Whether a host (as in a URL, IPv6 in brackets) can only be reached from this machine. */
function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || /^127\.\d+\.\d+\.\d+$/.test(h) || h === '[::1]' || h === '0.0.0.0' || h === '[::]';
}

/**
 * The first non-internal IPv4 address of the machine, in the order
 * `os.networkInterfaces()` lists them.
 * @returns the dotted address, or `undefined` when the machine has none.
 */
export function firstLanIPv4(interfaces: Interfaces = os.networkInterfaces()): string | undefined {
  for (const infos of Object.values(interfaces)) {
    for (const i of infos ?? []) if (i.family === 'IPv4' && !i.internal) return i.address;
  }
  return undefined;
}

/** {@link firstLanIPv4} of the machine, read at most every 5 s (a DHCP lease may change it). */
let lanCache: { at: number; address: string | undefined } | null = null;
function currentLanIPv4(): string | undefined {
  const now = performance.now();
  if (lanCache === null || now - lanCache.at > 5000) lanCache = { at: now, address: firstLanIPv4() };
  return lanCache.address;
}

/**
 * The URL another machine on the network can open for `path`.
 * @param hostField the request's `Host` field value (`undefined` when absent).
 * @param path the absolute path, percent-encoded, e.g. `/files/a%20b/`.
 * @param fallbackPort the port when `Host` names none (the server's; 80 is left out of the URL).
 * @param scheme `http` or `https`.
 * @param interfaces the machine's interfaces (the current ones by default).
 * @returns e.g. `http://192.168.1.20:4221/files/a%20b/`; `undefined` when the
 *   host is loopback or malformed and the machine has no LAN IPv4 address.
 */
export function lanUrl(hostField: string | undefined, path: string, fallbackPort?: number, scheme = 'http', interfaces?: Interfaces): string | undefined {
  const m = hostField === undefined ? null : HOST_FIELD.exec(hostField.trim());
  const portText = m?.[2] ?? (fallbackPort === undefined ? undefined : String(fallbackPort));
  const port = portText === undefined || portText === (scheme === 'https' ? '443' : '80') ? '' : `:${Number(portText)}`;
  if (m !== null && !isLoopbackHost(m[1]!)) return `${scheme}://${m[1]!.toLowerCase()}${port}${path}`;
  const address = interfaces === undefined ? currentLanIPv4() : firstLanIPv4(interfaces);
  return address === undefined ? undefined : `${scheme}://${address}${port}${path}`;
}

/** Most codes kept per renderer. */
const MAX_CACHED = 64;
const svgCache = new Map<string, string>();

/** Renders synchronously: `qrcode`'s string renderers call back before returning. */
function render(text: string, options: QRCode.QRCodeToStringOptions): string {
  let out: string | undefined;
  let failure: unknown;
  QRCode.toString(text, options, (err, s) => {
    if (err) failure = err;
    else out = s;
  });
  if (out === undefined) throw failure ?? new Error('qrcode rendered asynchronously');
  return out;
}

/**
 * A QR code of `text` as an SVG document (`<svg …><title>text</title>…</svg>`,
 * no `style` attribute nor script), kept for the next call.
 * @throws Error when `text` is too long for a QR code (over ~2,300 bytes at level M).
 */
export function qrSvg(text: string): string {
  let svg = svgCache.get(text);
  if (svg !== undefined) {
    svgCache.delete(text);
    svgCache.set(text, svg);
    return svg;
  }
  svg = render(text, { type: 'svg', margin: 2 }).trim();
  // The text as the image's title: readable by people and by tests.
  const title = `<title>${text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</title>`;
  svg = svg.replace(/^(<svg[^>]*>)/, `$1${title}`);
  svgCache.set(text, svg);
  if (svgCache.size > MAX_CACHED) svgCache.delete(svgCache.keys().next().value!);
  return svg;
}

/**
 * A QR code of `text` in block characters and ANSI colours for a terminal,
 * two modules per character row.
 * @throws Error when `text` is too long for a QR code.
 */
export function qrTerminal(text: string): string {
  return render(text, { type: 'terminal', small: true });
}
