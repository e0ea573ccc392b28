/**
 * Access logs: one line per exchange the engine reports
 * ({@link ExchangeRecord}), in one of four formats, written through
 * sonic-boom (pino's destination: buffered, asynchronous, reopened on
 * SIGHUP for logrotate). Without a log, a person at a terminal sees a short
 * coloured line per request instead.
 *
 * Request-targets and header values are chosen by the client: every
 * format escapes control characters (and bytes above 0x7e), so no field
 * can start a new line or forge one.
 */

import fs from 'node:fs';
import sonicBoom, { type SonicBoom as SonicBoomClass } from 'sonic-boom';
import type { ExchangeRecord, ExchangeReporter } from '../http/connection.js';

/** The formats `--log-format` accepts. */
export const LOG_FORMATS = ['common', 'combined', 'json', 'csv'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** The client of an exchange: the peer, or what a trusted proxy said it forwards for. */
export interface Client {
  readonly address: string;
  /** `null` when a proxy did not say. */
  readonly port: number | null;
}

/** Finds the client of an exchange (see `trust-proxy.ts`); the default is the peer. */
export type ClientResolver = (rec: ExchangeRecord) => Client;

export const peerClient: ClientResolver = (rec) => ({ address: rec.connection.remoteAddress, port: rec.connection.remotePort });

/** The CSV header row, columns in the order of {@link formatExchange}'s `csv` lines. */
export const CSV_HEADER =
  'time,server_address,server_port,client_address,client_port,method,request_target,http_version,status,bytes_sent,duration_ms,user_agent\n';

// A CommonJS module whose default export is the class, carrying itself as
// `.SonicBoom`: that property is found the same way under Node's ESM, Bun and
// ts-jest's CommonJS, whose typings disagree on what the default import is.
const SonicBoom = (sonicBoom as unknown as { SonicBoom: typeof SonicBoomClass }).SonicBoom;
type SonicBoom = SonicBoomClass;

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// The Common Log Format's time changes once a second: keep the last one.
let clfSecond = -1;
let clfText = '';

/** `10/Oct/2000:13:55:36 +0000` for `ms` since the epoch, in UTC. */
export function clfTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== clfSecond) {
    const d = new Date(second * 1000);
    const p = (n: number) => (n < 10 ? `0${n}` : String(n));
    clfText = `${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000`;
    clfSecond = second;
  }
  return clfText;
}

const UNSAFE = /[\x00-\x1f\x7f-\xff\\"]/;
const UNSAFE_ALL = /[\x00-\x1f\x7f-\xff\\"]/g;
const hex = (c: string) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;

/**
 * Escapes a field the way Apache's log does: `\` and `"` get a backslash,
 * control characters and bytes above 0x7e become `\xhh` (header values are
 * read as latin1, one char per byte). Characters above 0xff cannot occur.
 */
export function escapeField(s: string): string {
  if (!UNSAFE.test(s)) return s;
  return s.replace(UNSAFE_ALL, (c) => (c === '\\' ? '\\\\' : c === '"' ? '\\"' : hex(c)));
}

/** A CSV field per RFC 4180: escaped as {@link escapeField} but for `"`, then quoted if it holds `"` or `,`. */
export function csvField(s: string): string {
  const e = UNSAFE.test(s) ? s.replace(UNSAFE_ALL, (c) => (c === '\\' ? '\\\\' : c === '"' ? '"' : hex(c))) : s;
  return e.includes('"') || e.includes(',') ? `"${e.replace(/"/g, '""')}"` : e;
}

/** JSON text whose every character is ASCII and printable. */
function jsonString(s: string | null): string {
  if (s === null) return 'null';
  return JSON.stringify(s).replace(/[\x7f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function version(rec: ExchangeRecord): string | null {
  return rec.request === null ? null : rec.request.minorVersion === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
}

/**
 * One log line for `rec`, newline included.
 * - common: NCSA Common Log Format, `host - - [time] "request-line" status bytes`;
 * - combined: common plus `"Referer" "User-Agent"`;
 * - json: one object, fields `time`, `serverAddress`, `serverPort`,
 *   `clientAddress`, `clientPort`, `method`, `target`, `version`, `status`,
 *   `bytesSent`, `durationMs`, `userAgent`, `referer` (null when unknown);
 * - csv: the columns of {@link CSV_HEADER}.
 * Bytes are the whole response (head and content), like Apache's `%O`.
 * Unknown parts (a request that never got a complete head) are `-` (empty in CSV).
 */
export function formatExchange(format: LogFormat, rec: ExchangeRecord, client: Client = peerClient(rec)): string {
  const req = rec.request;
  switch (format) {
    case 'common':
    case 'combined': {
      const line = req === null ? '-' : `${escapeField(req.method)} ${escapeField(req.target)} ${version(rec)}`;
      const common = `${escapeField(client.address) || '-'} - - [${clfTime(rec.startTime)}] "${line}" ${rec.status} ${rec.bytesSent}`;
      if (format === 'common') return `${common}\n`;
      const referer = req?.fields.get('referer');
      const ua = req?.fields.get('user-agent');
      return `${common} "${referer === undefined ? '-' : escapeField(referer)}" "${ua === undefined ? '-' : escapeField(ua)}"\n`;
    }
    case 'json': {
      const c = rec.connection;
      return (
        `{"time":"${new Date(rec.startTime).toISOString()}","serverAddress":${jsonString(c.localAddress)},"serverPort":${c.localPort},` +
        `"clientAddress":${jsonString(client.address)},"clientPort":${client.port},` +
        `"method":${jsonString(req?.method ?? null)},"target":${jsonString(req?.target ?? null)},"version":${jsonString(version(rec))},` +
        `"status":${rec.status},"bytesSent":${rec.bytesSent},"durationMs":${rec.durationMs.toFixed(3)},` +
        `"userAgent":${jsonString(req?.fields.get('user-agent') ?? null)},"referer":${jsonString(req?.fields.get('referer') ?? null)}}\n`
      );
    }
    case 'csv': {
      const c = rec.connection;
      return (
        `${new Date(rec.startTime).toISOString()},${csvField(c.localAddress)},${c.localPort},${csvField(client.address)},${client.port ?? ''},` +
        `${req === null ? '' : csvField(req.method)},${req === null ? '' : csvField(req.target)},${version(rec) ?? ''},` +
        `${rec.status},${rec.bytesSent},${rec.durationMs.toFixed(3)},${csvField(req?.fields.get('user-agent') ?? '')}\n`
      );
    }
  }
}

const COLOURS: Record<number, string> = { 1: '\x1b[2m', 2: '\x1b[32m', 3: '\x1b[36m', 4: '\x1b[33m', 5: '\x1b[31m' };

/** The short line a person at a terminal sees: `19:02:41 GET /echo/abc 200 0.4 ms`, the status coloured by class. */
export function terminalLine(rec: ExchangeRecord, colour: boolean): string {
  const req = rec.request;
  const t = new Date(rec.startTime).toISOString().slice(11, 19);
  let target = req === null ? '-' : escapeField(req.target);
  if (target.length > 100) target = `${target.slice(0, 97)}...`;
  const status = colour ? `${COLOURS[Math.floor(rec.status / 100)] ?? ''}${rec.status}\x1b[0m` : String(rec.status);
  return `${t} ${req === null ? '-' : escapeField(req.method)} ${target} ${status} ${rec.durationMs.toFixed(1)} ms${rec.aborted ? ' (cut short)' : ''}\n`;
}

/** Where and how exchanges are logged. */
export interface AccessLogOptions {
  /** A file path, or `-` (or empty) for stdout. */
  destination: string;
  format: LogFormat;
  client?: ClientResolver;
  /**
   * Another process writes the CSV header row of a new file (the primary
   * of `--workers`, see {@link prepareLogFile}): this one never does, so N
   * workers starting on an empty file do not write N header rows.
   */
  headerByOtherProcess?: boolean;
}

/**
 * Creates the log file if it is missing and, for CSV, writes the header
 * row into an empty one (unless `header` is false: a worker, whose primary
 * writes it). The one place a header row is written to a file: at open, on
 * SIGHUP, and by the primary of `--workers` before its workers open the file.
 * Nothing happens for stdout (`-` or empty).
 * @throws Error when the file cannot be opened for appending.
 */
export function prepareLogFile(destination: string, format: LogFormat, header = true): void {
  if (destination === '' || destination === '-') return;
  const fd = fs.openSync(destination, 'a');
  try {
    if (header && format === 'csv' && fs.fstatSync(fd).size === 0) fs.writeSync(fd, CSV_HEADER);
  } finally {
    fs.closeSync(fd);
  }
}

/** Bytes of lines gathered before they are handed to sonic-boom. */
const BATCH = 32 * 1024;

/** How often gathered lines are handed over when fewer than {@link BATCH} bytes wait, in ms. */
const GATHER_MS = 100;

/**
 * An open access log. Lines are gathered into one string of up to
 * {@link BATCH} bytes (or for at most {@link GATHER_MS}), converted to
 * bytes in one go and handed to sonic-boom (in its buffer mode), which
 * appends them to a file with one synchronous `write` (nginx's
 * `access_log ... buffer=32k`), or writes them to stdout asynchronously.
 * Every line is ASCII (each format escapes the rest), so latin1 is exact.
 * Measured on /echo, per request: handing sonic-boom strings cost 1.5 µs
 * (it measures each one's UTF-8 length, `fs.write` flattens and encodes it
 * again, and the thread-pool write preempts the event loop); copying each
 * line into a Buffer with `Buffer.write` cost 0.6 µs; appending to a string
 * and converting once per batch costs well under 0.1 µs.
 */
export class AccessLog {
  private readonly out: SonicBoom;
  private pending = '';
  private readonly push = () => {
    if (this.pending === '') return;
    const bytes = Buffer.from(this.pending, 'latin1');
    this.pending = '';
    this.out.write(bytes as unknown as string); // buffer mode: the typings only name strings
  };
  private readonly file: string | null;
  /** Receives each exchange: pass it to `createHttpServer`. */
  readonly record: ExchangeReporter;

  /** @throws Error when the file cannot be opened for appending. */
  constructor(private readonly options: AccessLogOptions) {
    const toStdout = options.destination === '' || options.destination === '-';
    this.file = toStdout ? null : options.destination;
    // Opening it now fails now, with the reason; a CSV file starts with its header row (one place writes it).
    if (this.file !== null) prepareLogFile(this.file, options.format, options.headerByOtherProcess !== true);
    this.out = new SonicBoom({ dest: this.file ?? 1, append: true, contentMode: 'buffer', sync: this.file !== null });
    this.out.on('error', (err: Error) => process.stderr.write(`warning: access log: ${err.message}\n`));
    if (this.file === null && options.format === 'csv') this.append(CSV_HEADER);
    const format = options.format;
    const client = options.client ?? peerClient;
    this.record = (rec) => this.append(formatExchange(format, rec, client(rec)));
    setInterval(this.push, GATHER_MS).unref();
  }

  /** Adds one ASCII line to the batch, handing the batch over once it is full. */
  private append(line: string): void {
    this.pending += line;
    if (this.pending.length >= BATCH) this.push();
  }

  /**
   * Reopens the file (after logrotate moved it); a CSV log that starts a
   * new file starts with its header row. Nothing happens for stdout.
   */
  reopen(): void {
    if (this.file === null) return;
    this.push(); // lines of before the signal go to the old file
    // Synchronous mode: the new file exists, with a CSV header row, before the next line is appended.
    prepareLogFile(this.file, this.options.format, this.options.headerByOtherProcess !== true);
    this.out.reopen();
  }


  /** Writes out what is buffered; resolves when it is written. */
  flush(): Promise<void> {
    return new Promise((resolve) => {
      this.push();
      try {
        this.out.flushSync();
      } catch {
        // not open yet, or a write error already reported
      }
      resolve();
    });
  }
}

/**
 * What the command line asks for: `--access-log [FILE]` opens a log (and
 * SIGHUP reopens it); without it, a terminal on stdout gets
 * {@link terminalLine}s unless `quiet`; else nothing is recorded at all
 * (the engine then does no per-exchange work for logs).
 * @returns the reporter for `createHttpServer`, and a flush for exit; both undefined when nothing is logged.
 * @throws Error when the log file cannot be opened.
 */
export function accessLogFromOptions(opts: {
  accessLog: string | undefined;
  logFormat: LogFormat;
  quiet: boolean;
  client?: ClientResolver;
  headerByOtherProcess?: boolean;
}): { record: ExchangeReporter; flush: () => Promise<void> } | undefined {
  if (opts.accessLog !== undefined) {
    const log = new AccessLog({ destination: opts.accessLog, format: opts.logFormat, client: opts.client, headerByOtherProcess: opts.headerByOtherProcess });
    process.on('SIGHUP', () => log.reopen());
    return { record: log.record, flush: () => log.flush() };
  }
  if (opts.quiet || process.stdout.isTTY !== true) return undefined;
  const colour = process.stdout.hasColors?.() ?? false;
  const out = new SonicBoom({ dest: 1, minLength: 0 });
  return { record: (rec) => void out.write(terminalLine(rec, colour)), flush: async () => out.flushSync() };
}
