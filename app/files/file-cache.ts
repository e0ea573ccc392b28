/**
 * The open-file cache: what the file server learned about a request path,
 * kept so that the next request for it needs no thread-pool round trip. In
 * the spirit of nginx's `open_file_cache`, beside the handlers that use it
 * (`served-directory.ts`, `static-file.ts`), which never see how entries are
 * validated or evicted.
 *
 * An entry holds, for one request path of one served directory: the file's
 * real path, its identity (device, inode, size, mtime, ctime), its
 * validators and media type, the response header fields built once, its
 * bytes when small, the coded variants (gzip, br, deflate) computed once,
 * and the state of its precompressed siblings (`.br`, `.gz`).
 *
 * ## The freshness guarantee
 *
 * A change on disk is seen by the very next request that begins after it,
 * whoever made it (this server's uploads or another process): a file
 * rewritten in place (same size included), replaced by rename, deleted; a
 * sibling `.br`/`.gz` added, changed or removed; a folder or symlink on the
 * way swapped, including for one that leads outside the served directory
 * (then 404). It is not a time window: every hit is checked before use,
 * synchronously, by `lstat` of each folder below the served directory
 * (still a real folder, not a symlink), of the file (same device, inode,
 * size, mtime and ctime) and, when the client accepts a coding, of its
 * sibling names. Those are a few system calls on the event loop, no
 * thread-pool round trip. What it does not cover: the served directory
 * itself being replaced (it is resolved once at start-up).
 *
 * Two rules close the gaps a stat comparison leaves:
 *
 * - **Racy entries are not kept.** File times come from a clock that ticks
 *   in steps (a few ms on Linux, seconds elsewhere), so a write made in the
 *   same tick as the one we read may leave size, mtime and ctime equal. An
 *   entry whose ctime or mtime is less than {@link RACY_MS} before the
 *   moment it was read is served but not cached, as git treats a "racily
 *   clean" index entry; any later write then moves the times past the
 *   recorded ones.
 * - **Paths with symlinks are not cached.** Only a path whose real path is
 *   the path itself is kept, so the per-component `lstat` above is enough to
 *   see any swap. Symlinked paths are resolved, opened and checked on every
 *   request.
 *
 * Negative answers (404) are never cached: a file created where there was
 * none is served at once.
 *
 * Memory is bounded by a byte budget (`--cache-size`): bytes of contents and
 * variants plus a fixed overhead per entry, least-recently-used first out.
 * A budget of 0 turns the cache off.
 */

import { lstatSync, type Stats } from 'node:fs';
import type { HeaderFields, Response } from '../http/response.js';
import type { Validators } from '../http/conditional.js';

/** An entry younger than this (ms between its ctime/mtime and the read) is not cached. */
export const RACY_MS = 1000;
/** Default budget of the cache in bytes (`--cache-size`). */
export const DEFAULT_CACHE_SIZE = 64 * 1024 * 1024;
/** Largest file whose bytes are kept in memory, in bytes (also at most 1/16 of the budget). */
export const MAX_CACHED_FILE = 1024 * 1024;
/** Bytes counted per entry besides its contents: strings, header objects, the map slot. */
const ENTRY_OVERHEAD = 1024;

/** What identifies one version of a file: a change to its bytes changes at least one field. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
  readonly size: number;
  readonly mtimeMs: number;
  readonly ctimeMs: number;
}

/** The identity fields of a `stat` result. */
export function identityOf(st: Stats): FileIdentity {
  return { dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs };
}

/** True when `st` describes the same version of the same file as `id`. */
export function sameVersion(st: Stats | FileIdentity, id: FileIdentity): boolean {
  return st.ino === id.ino && st.dev === id.dev && st.size === id.size && st.mtimeMs === id.mtimeMs && st.ctimeMs === id.ctimeMs;
}

/** True when a file with these times, read at `readAt` (ms since the epoch), may not be cached. */
export function isRacy(id: FileIdentity, readAt: number): boolean {
  return readAt - Math.max(id.ctimeMs, id.mtimeMs) < RACY_MS;
}

/** A precompressed sibling (`name.br`, `name.gz`) as last seen. */
export interface SiblingState {
  /** `br` or `gzip`. */
  readonly coding: string;
  /** Absolute path of the sibling. */
  readonly path: string;
  /** Its identity when it is usable (a regular file not older than the file), else `null`. */
  readonly identity: FileIdentity | null;
  /** Its validators when usable. */
  readonly validators: Validators | null;
  /** Its bytes when usable and small enough to keep, else `null` (then it is streamed). */
  readonly content: Buffer | null;
}

/**
 * One cached request path. Immutable except for {@link variants}, which
 * fills in as codings are asked for, and the prebuilt responses.
 */
export interface FileEntry {
  /** The cache key: the served directory's id and the request path. */
  readonly key: string;
  /** Absolute real path of the file. */
  readonly file: string;
  /** Folders below the served directory on the way to the file, outermost first. */
  readonly folders: readonly string[];
  readonly identity: FileIdentity;
  readonly validators: Validators;
  /** `Content-Type` value. */
  readonly contentType: string;
  /** Whether the media type is worth coding on the fly. */
  readonly compressible: boolean;
  /** The whole file when at most {@link MAX_CACHED_FILE} bytes, else `null` (streamed from a descriptor). */
  readonly content: Buffer | null;
  readonly siblings: readonly SiblingState[];
  /** Content-codings this file can be sent in besides identity, the server's preference first: usable siblings, then on-the-fly codings if compressible. */
  readonly codings: readonly string[];
  /** Coded variants of {@link content}, by coding; a Promise while being computed. */
  readonly variants: Map<string, Buffer | Promise<Buffer>>;
  /** Header fields per representation (`identity`, `gzip`…), frozen, built once. */
  readonly fields: Map<string, HeaderFields>;
  /** The whole 200 response to a plain GET (no conditional, no range, no coding), built once. */
  plain: Response | null;
  /** Bytes counted against the budget. */
  bytes: number;
}

/** Whether a path still names a real folder (not a symlink). */
function isFolder(p: string): boolean {
  const st = lstatSync(p, { throwIfNoEntry: false });
  return st !== undefined && st.isDirectory();
}

/**
 * A bounded, least-recently-used map from request path to {@link FileEntry},
 * validated on every lookup (see the module comment). One instance is
 * shared by `/files/` and the `--root` site, so they share one budget.
 */
export class FileCache {
  private readonly entries = new Map<string, FileEntry>();
  private total = 0;
  /** Largest file, in bytes, whose contents an entry keeps. */
  readonly maxFileSize: number;

  /** @param budget bytes the cache may hold; 0 disables it. */
  constructor(readonly budget: number = DEFAULT_CACHE_SIZE) {
    this.maxFileSize = Math.min(MAX_CACHED_FILE, Math.floor(budget / 16));
  }

  /** Whether the cache keeps anything at all. */
  get enabled(): boolean {
    return this.budget > 0;
  }

  /** Bytes held now (contents, variants, per-entry overhead). */
  get size(): number {
    return this.total;
  }

  /** Entries held now. */
  get count(): number {
    return this.entries.size;
  }

  /**
   * The entry for `key` if it still describes what is on disk (folders and
   * file checked by `lstat`; siblings are checked by {@link siblingsFresh}
   * only when a coding is wanted). A stale entry is dropped.
   * @returns the entry, or `undefined` (absent or stale).
   */
  get(key: string): FileEntry | undefined {
    const e = this.entries.get(key);
    if (e === undefined) return undefined;
    if (!this.fresh(e)) {
      this.delete(e);
      return undefined;
    }
    // Most recently used goes last.
    this.entries.delete(key);
    this.entries.set(key, e);
    return e;
  }

  private fresh(e: FileEntry): boolean {
    const folders = e.folders;
    for (let i = 0; i < folders.length; i++) if (!isFolder(folders[i]!)) return false;
    const st = lstatSync(e.file, { throwIfNoEntry: false });
    return st !== undefined && st.isFile() && sameVersion(st, e.identity);
  }

  /**
   * Whether `e`'s precompressed siblings are as recorded: each usable one
   * unchanged, each missing or unusable one still so. Synchronous `lstat`s.
   */
  siblingsFresh(e: FileEntry): boolean {
    for (const s of e.siblings) {
      const st = lstatSync(s.path, { throwIfNoEntry: false });
      const usable = st !== undefined && st.isFile() && st.mtimeMs >= e.identity.mtimeMs;
      if (s.identity === null ? usable : !usable || !sameVersion(st!, s.identity)) return false;
    }
    return true;
  }

  /**
   * Keeps `e` unless the cache is off or it would not fit; evicts the least
   * recently used entries to make room.
   */
  set(e: FileEntry): void {
    if (!this.enabled) return;
    e.bytes = ENTRY_OVERHEAD + (e.content?.length ?? 0);
    for (const s of e.siblings) e.bytes += s.content?.length ?? 0;
    if (e.bytes > this.budget) return;
    const old = this.entries.get(e.key);
    if (old !== undefined) this.delete(old);
    this.entries.set(e.key, e);
    this.total += e.bytes;
    this.evict();
  }

  /** Counts `bytes` more for `e` (a variant was added), if `e` is still held. */
  grow(e: FileEntry, bytes: number): void {
    if (this.entries.get(e.key) !== e) return;
    e.bytes += bytes;
    this.total += bytes;
    this.evict();
  }

  /** Drops `e` if it is the entry held for its key. */
  delete(e: FileEntry): void {
    if (this.entries.get(e.key) !== e) return;
    this.entries.delete(e.key);
    this.total -= e.bytes;
  }

  private evict(): void {
    if (this.total <= this.budget) return;
    for (const e of this.entries.values()) {
      this.delete(e);
      if (this.total <= this.budget) return;
    }
  }
}
