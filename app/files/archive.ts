/**
 * A served folder downloaded whole: `GET <folder>/?zip` streams it as a zip
 * archive, `GET <folder>/?tar` as a tar archive (issue 10, "Archive
 * download"). The archive is built while it is sent: no temporary file, and
 * memory bounded by a few buffers whatever the folder's size.
 *
 * The folder is walked here, by the served directory's rules, and each entry
 * handed to `archiver` (which only encodes: zip-stream, tar-stream):
 * - names hidden from the listing (dotfiles unless `--dotfiles`, an upload's
 *   temporary file always) are left out, as are names holding a `\` (no URL
 *   reaches them, and zip and tar would read it as a folder separator);
 * - every file and folder is opened with {@link openInside}, so only what
 *   lies inside the served directory is read, whatever is renamed or
 *   swapped meanwhile. A symlink is followed only to a file inside the
 *   served directory (stored under the link's name, with the target's
 *   content); a symlink to a folder is never followed (no loop, no
 *   duplicate), and one leading outside is left out;
 * - what cannot be opened or listed (EACCES, EPERM), or vanished, is left
 *   out and the walk goes on; FIFOs, sockets and devices are left out;
 * - each file is read from the descriptor that was opened, exactly the size
 *   its `fstat` gave: a file replaced meanwhile (renamed over) is archived
 *   as it was when opened, one that grows is cut at that size, and one that
 *   shrinks fails the archive (the connection is cut, so the client sees an
 *   incomplete download rather than a wrong file).
 *
 * Zip entries of compressible types (the compression filter's own rule,
 * {@link isCompressible}) are deflated at level 1; the others (images,
 * video, archives, unknown bytes) are stored, as deflating them costs time
 * and gains nothing. Names are UTF-8 (the zip's language-encoding flag,
 * tar's pax headers for non-ASCII or long names).
 *
 * Back-pressure: the archive reads the next file only while the socket
 * takes what it produced, and a destroyed body (the client went away)
 * stops the walk and closes every descriptor it holds.
 */

import { lstat, readdir } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import type { Archiver, ZipEntryData } from 'archiver';
import { isCompressible } from '../http/codecs.js';
import type { HeaderFields, Response, StreamBody } from '../http/response.js';
import { type FileStream, closeFd, fileStream, openInside, readWhole } from './open-file.js';
import { contentTypeFor } from './static-file.js';

/** The archive formats offered, by the query that asks for them. */
export type ArchiveFormat = 'zip' | 'tar';

/** What the walk may include, from the served directory's rules. */
export interface ArchiveRules {
  /** A name left out (dotfiles unless allowed, upload temporary files). */
  isHidden(name: string): boolean;
  /** Whether a real path (symlinks resolved) lies inside the served directory. */
  isInside(real: string): boolean;
}

/** Bytes buffered between the archive encoder and the socket; also each encoder's stream buffer. */
const BUFFER_BYTES = 64 * 1024;
/** Encoder output chunks below this size are gathered before they are sent. */
const SMALL_CHUNK = 4 * 1024;
/** Files up to this size are read whole, so their zip header carries sizes and CRC up front. */
const SMALL_FILE = 64 * 1024;
/** zlib level for deflated zip entries: 1 is near level 6's size on text at several times its speed. */
const DEFLATE_LEVEL = 1;

const MEDIA_TYPES: Record<ArchiveFormat, string> = { zip: 'application/zip', tar: 'application/x-tar' };

/**
 * The archive format a query asks for: exactly `zip` or `tar` (`?zip`,
 * `?tar`); `null` for any other query.
 */
export function archiveFormat(query: string): ArchiveFormat | null {
  return query === 'zip' || query === 'tar' ? query : null;
}

/** RFC 8187 `value-chars`: UTF-8, percent-encoding all but `attr-char`. */
function extValue(s: string): string {
  return encodeURIComponent(s).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * A `Content-Disposition: attachment` field-value for `fileName` (RFC 6266
 * §4): `filename="…"` with a printable-ASCII fallback (other characters, and
 * `"`, `\` and `%`, which user agents read differently, become `_`), plus
 * `filename*=UTF-8''…` (RFC 8187) when the fallback differs from the name.
 */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/gu, '_');
  if (fallback === fileName) return `attachment; filename="${fileName}"`;
  return `attachment; filename="${fallback}"; filename*=UTF-8''${extValue(fileName)}`;
}

/**
 * The name of an archive's top folder: the folder's own name, or for the
 * served directory itself its basename (`files` when it has none, `/`).
 * archiver strips a leading `word:` from entry names, so a `:` there becomes `_`.
 * @param segments the decoded path segments of the folder below the served directory.
 */
export function archiveTopName(servedDirectory: string, segments: readonly string[]): string {
  const name = segments.length > 0 ? segments[segments.length - 1]! : path.basename(servedDirectory) || 'files';
  return name.replace(/^(\w+):/, '$1_');
}

/**
 * The response for a folder's archive: 200 with the archive's media type,
 * `Content-Disposition: attachment; filename="<top>.<format>"`, and a body
 * of unknown length (sent chunked). The walk starts only when the body is
 * sent, so `HEAD` answers the same head and reads nothing. The response is
 * marked `codingNegotiated` so the compression filter leaves it as is (tar
 * is "compressible" in mime-db, but an archive is downloaded as the file it is).
 * @param folder real path of the folder (inside the served directory).
 * @param top the name of the archive's top folder ({@link archiveTopName}).
 */
export function archiveResponse(format: ArchiveFormat, folder: string, top: string, rules: ArchiveRules): Response {
  const headers: HeaderFields = {
    'Content-Type': MEDIA_TYPES[format],
    'Content-Disposition': contentDisposition(`${top}.${format}`),
  };
  let stream: ArchiveStream | undefined;
  const body: StreamBody = {
    open: () => (stream = new ArchiveStream(format, folder, top, rules)),
    recycle: (chunk) => stream?.recycle(chunk),
  };
  return { status: 200, headers, body, codingNegotiated: true };
}

/**
 * archiver, loaded on the first archive: importing it costs about 0.3 s and
 * 20 MB at start-up, which a server that never archives should not pay.
 */
let archiverModule: Promise<typeof import('archiver')> | undefined;

/** The parts of zip-stream's engine (compress-commons' ArchiveOutputStream) that {@link gatherCentralDirectory} wraps. */
interface ZipEngine {
  offset: number;
  write(chunk: Buffer | string): boolean;
  end(): unknown;
  _finish(): void;
}

/**
 * zip-stream writes the central directory at the end in about twenty small
 * writes per entry, all at once (they ignore back-pressure): 20,000 files
 * made a 120 MB spike of tiny chunks. This gathers those writes into
 * {@link BUFFER_BYTES} buffers. It wraps internals of zip-stream 7 and
 * compress-commons (`write` advances `offset`, which `_finish` reads, and
 * `_finish` ends with `end`), pinned by archiver 8.0.0; where that shape is
 * not found it does nothing, and the archive is the same either way.
 */
function gatherCentralDirectory(encoder: Archiver): void {
  const engine = (encoder as unknown as { _module?: { engine?: Partial<ZipEngine> } })._module?.engine;
  if (engine === undefined || typeof engine._finish !== 'function' || typeof engine.write !== 'function' || typeof engine.end !== 'function' || typeof engine.offset !== 'number') return;
  const e = engine as ZipEngine;
  const finish = e._finish;
  e._finish = function (this: ZipEngine): void {
    const write = this.write;
    const end = this.end;
    let parts: Buffer[] = [];
    let bytes = 0;
    const flush = () => {
      if (bytes === 0) return;
      const joined = Buffer.concat(parts, bytes);
      parts = [];
      bytes = 0;
      write.call(this, joined);
      this.offset -= joined.length; // counted when it was gathered
    };
    this.write = (chunk: Buffer | string) => {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      parts.push(b);
      bytes += b.length;
      this.offset += b.length;
      if (bytes >= BUFFER_BYTES) flush();
      return true;
    };
    this.end = () => {
      flush();
      this.write = write;
      this.end = end;
      return end.call(this);
    };
    finish.call(this);
  };
}

/** Thrown inside the walk once the body is destroyed, to unwind it. */
class Stopped extends Error {}

/** Errors that leave one entry out (it cannot be read or vanished) rather than fail the archive. */
function skippable(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'EACCES' || code === 'EPERM' || code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP';
}

/**
 * The archive as a stream: walks the folder, hands each entry to the
 * encoder one at a time (the next only once the previous is encoded and the
 * socket has taken the bytes), and passes the encoder's output on.
 */
class ArchiveStream extends Readable {
  /** The encoder, once archiver is loaded. */
  private encoder: Archiver | null = null;
  /** Our buffer is full: the encoder is paused and the walk waits. */
  private full = false;
  /** Wakes the walk waiting for room in our buffer. */
  private roomWaiter: (() => void) | null = null;
  /** Wakes the walk waiting for the entry it handed over to be encoded. */
  private entryWaiter: (() => void) | null = null;
  /** The file being streamed into the encoder, if any; destroying it closes its descriptor. */
  private source: FileStream | null = null;
  private stopped = false;
  /** Small chunks of the encoder's output not passed on yet ({@link gather}). */
  private small: Buffer[] = [];
  private smallBytes = 0;
  private flushQueued = false;

  constructor(
    private readonly format: ArchiveFormat,
    folder: string,
    top: string,
    private readonly rules: ArchiveRules,
  ) {
    super({ highWaterMark: BUFFER_BYTES });
    this.run(folder, top).catch((e: unknown) => {
      if (!(e instanceof Stopped)) this.destroy(e as Error);
    });
  }

  /** Loads archiver, starts the encoder, walks the folder into it, and finishes it. */
  private async run(folder: string, top: string): Promise<void> {
    const { TarArchive, ZipArchive } = await (archiverModule ??= import('archiver'));
    this.check();
    const encoder =
      this.format === 'zip' ? new ZipArchive({ highWaterMark: BUFFER_BYTES, zlib: { level: DEFLATE_LEVEL } }) : new TarArchive({ highWaterMark: BUFFER_BYTES });
    this.encoder = encoder;
    if (this.format === 'zip') gatherCentralDirectory(encoder);
    encoder.on('data', (chunk: Buffer) => this.gather(chunk));
    encoder.on('end', () => {
      this.flushSmall();
      this.push(null);
    });
    // Kept for the stream's whole life: an encoder error after we are destroyed must not go unheard.
    encoder.on('error', (e: Error) => this.destroy(e));
    encoder.on('entry', () => this.wakeEntry());
    await this.walk(folder, top);
    this.check();
    encoder.finalize().catch(() => undefined); // its errors arrive as 'error' events too
  }

  /**
   * Passes a chunk of the encoder's output on. The encoders write headers
   * and the zip's central directory a few bytes at a time: such small
   * chunks are gathered (until {@link BUFFER_BYTES}, or the end of this
   * turn of the event loop) so they leave in one chunk, not one socket
   * write and chunk header each. File content passes as it came.
   */
  private gather(chunk: Buffer): void {
    if (chunk.length >= SMALL_CHUNK) {
      this.flushSmall();
      this.pass(chunk);
      return;
    }
    this.small.push(chunk);
    this.smallBytes += chunk.length;
    if (this.smallBytes >= BUFFER_BYTES) this.flushSmall();
    else if (!this.flushQueued) {
      this.flushQueued = true;
      setImmediate(() => {
        this.flushQueued = false;
        this.flushSmall();
      });
    }
  }

  private flushSmall(): void {
    if (this.smallBytes === 0 || this.destroyed) return;
    const joined = this.small.length === 1 ? this.small[0]! : Buffer.concat(this.small, this.smallBytes);
    this.small = [];
    this.smallBytes = 0;
    this.pass(joined);
  }

  private pass(chunk: Buffer): void {
    if (!this.push(chunk) && !this.full) {
      this.full = true;
      this.encoder?.pause();
    }
  }

  override _read(): void {
    if (this.full) {
      this.full = false;
      this.encoder?.resume();
    }
    this.wakeRoom();
  }

  /** Takes back a chunk the socket is done with (see {@link StreamBody.recycle}): a file's read buffer is read into again. */
  recycle(chunk: Buffer): void {
    this.source?.recycle(chunk);
  }

  override _destroy(err: Error | null, cb: (error?: Error | null) => void): void {
    this.stopped = true;
    this.source?.destroy(); // closes its descriptor
    this.source = null;
    // Left to the garbage collector, not destroyed: destroying it mid-entry
    // makes tar-stream's pipeline emit an error on a stream nobody can listen to.
    this.encoder?.abort();
    this.encoder?.pause();
    this.wakeRoom();
    this.wakeEntry();
    cb(err);
  }

  private wakeRoom(): void {
    const w = this.roomWaiter;
    this.roomWaiter = null;
    w?.();
  }

  private wakeEntry(): void {
    const w = this.entryWaiter;
    this.entryWaiter = null;
    w?.();
  }

  private check(): void {
    if (this.stopped) throw new Stopped();
  }

  /** Resolves once the socket has taken what was produced. @throws Stopped */
  private async room(): Promise<void> {
    this.check();
    while (this.full) {
      await new Promise<void>((resolve) => (this.roomWaiter = resolve));
      this.check();
    }
  }

  /** Hands one entry to the encoder and resolves once it is encoded. @throws Stopped */
  private async add(source: Buffer | Readable, data: ZipEntryData): Promise<void> {
    await this.room();
    const encoded = new Promise<void>((resolve) => (this.entryWaiter = resolve));
    this.encoder!.append(source, data);
    await encoded;
    this.check();
  }

  /** Archives the folder at `dir` (a real path) as `name/`, then what it holds, depth first in name order. */
  private async walk(dir: string, name: string): Promise<void> {
    const opened = await openInside(dir, this.rules.isInside).catch((e: unknown) => (skippable(e) ? null : Promise.reject(e)));
    if (opened === null) return;
    let names: string[];
    try {
      // A folder swapped for a symlink since its lstat is left out: folders are never followed through links, so the walk cannot loop.
      if (this.stopped || !opened.stats.isDirectory() || opened.real !== dir) return;
      // The listing of exactly the folder that was opened (and checked), where /proc has it.
      names = await readdir(`/proc/self/fd/${opened.fd}`).catch(() => readdir(opened.real));
    } catch (e) {
      if (skippable(e)) return;
      throw e;
    } finally {
      closeFd(opened.fd);
    }
    names.sort();
    await this.add(Buffer.alloc(0), { name: `${name}/`, type: 'directory', stats: opened.stats });
    for (const n of names) {
      this.check();
      if (this.rules.isHidden(n) || n.includes('\\')) continue;
      const full = path.join(opened.real, n);
      let st: Stats;
      try {
        st = await lstat(full);
      } catch (e) {
        if (skippable(e)) continue;
        throw e;
      }
      if (st.isDirectory()) await this.walk(full, `${name}/${n}`);
      else if (st.isFile() || st.isSymbolicLink()) await this.file(full, `${name}/${n}`);
    }
  }

  /** Archives the regular file at `full` (or a symlink's target file inside the served directory) as `name`. */
  private async file(full: string, name: string): Promise<void> {
    const opened = await openInside(full, this.rules.isInside).catch((e: unknown) => (skippable(e) ? null : Promise.reject(e)));
    if (opened === null) return;
    const { fd, stats } = opened;
    if (this.stopped || !stats.isFile()) {
      closeFd(fd); // a symlink to a folder (never followed), or we are done
      this.check();
      return;
    }
    const data: ZipEntryData = { name, type: 'file', stats };
    if (this.format === 'zip') data.store = !isCompressible(contentTypeFor(name));
    if (stats.size <= SMALL_FILE) {
      let bytes: Buffer;
      try {
        bytes = await readWhole(fd, stats.size);
      } finally {
        closeFd(fd);
      }
      await this.add(bytes, data);
      return;
    }
    try {
      await this.room();
    } catch (e) {
      closeFd(fd);
      throw e;
    }
    const source = fileStream(fd, 0, stats.size, () => closeFd(fd));
    source.once('error', (e) => this.destroy(e)); // it shrank, or a read failed
    this.source = source;
    await this.add(source, data);
    this.source = null;
  }
}
