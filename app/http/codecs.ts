/**
 * Content codings (RFC 9110 §8.4.1): gzip, br and deflate, in one go, on the
 * thread pool, or as a stream; and which media types are worth coding.
 * Shared by the compression stage (df4, ij8, cr8) and the file server, so
 * neither reaches into the other.
 */

import zlib from 'node:zlib';
import { promisify } from 'node:util';
import db from 'mime-db';

/** Codings we apply, most preferred first. */
export const SUPPORTED_CODINGS = ['gzip', 'br', 'deflate'] as const;

const compressibleCache = new Map<string, boolean>();
/** Brotli quality 5: near gzip -9 size at a fraction of brotli's default (11) cost. */
const BROTLI_OPTIONS = { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 5 } };

/** Whether a `Content-Type` value names a type worth compressing (mime-db's table, except `application/octet-stream`). */
export function isCompressible(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  let known = compressibleCache.get(contentType);
  if (known === undefined) {
    const essence = contentType.split(';')[0]!.trim().toLowerCase();
    const entry = (db as Record<string, { compressible?: boolean }>)[essence];
    // mime-db calls octet-stream compressible, but unknown bytes are often compressed already.
    known = essence !== 'application/octet-stream' && (entry?.compressible ?? (essence.startsWith('text/') || essence.endsWith('+json') || essence.endsWith('+xml')));
    compressibleCache.set(contentType, known);
  }
  return known;
}

/** Codes `data` in one go. @param coding one of {@link SUPPORTED_CODINGS}. */
export function encodeSync(coding: string, data: Buffer | string): Buffer {
  switch (coding) {
    case 'gzip':
      return zlib.gzipSync(data);
    case 'br':
      return zlib.brotliCompressSync(data, BROTLI_OPTIONS);
    case 'deflate':
      return zlib.deflateSync(data);
    default:
      throw new Error(`unsupported coding ${coding}`);
  }
}

const gzipAsync = promisify(zlib.gzip);
const brotliAsync = promisify(zlib.brotliCompress);
const deflateAsync = promisify(zlib.deflate);

/**
 * Codes `data` on the thread pool, keeping the event loop free.
 * @param coding one of {@link SUPPORTED_CODINGS}; the output is the same as {@link encodeSync}'s.
 * @throws Error for another coding.
 */
export function encode(coding: string, data: Buffer): Promise<Buffer> {
  switch (coding) {
    case 'gzip':
      return gzipAsync(data);
    case 'br':
      return brotliAsync(data, BROTLI_OPTIONS);
    case 'deflate':
      return deflateAsync(data);
    default:
      return Promise.reject(new Error(`unsupported coding ${coding}`));
  }
}

/** A Transform that codes a stream. @param coding one of {@link SUPPORTED_CODINGS}. */
export function encodeStream(coding: string): zlib.Gzip | zlib.BrotliCompress | zlib.Deflate {
  switch (coding) {
    case 'gzip':
      return zlib.createGzip();
    case 'br':
      return zlib.createBrotliCompress(BROTLI_OPTIONS);
    case 'deflate':
      return zlib.createDeflate();
    default:
      throw new Error(`unsupported coding ${coding}`);
  }
}
