/**
 * Shared pieces of the archive tests: the fixture folder, what its archive
 * must hold, and a folder tree read back as names, sizes and SHA-256.
 */

import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { writeTree } from './support';

/** What a folder holds: relative path (`/`-separated) → `"folder"` or `"<size> <sha256>"`. */
export type Tree = Record<string, string>;

const describeFile = (content: Buffer) => `${content.length} ${createHash('sha256').update(content).digest('hex')}`;

/** The tree under `dir`, symlinks not followed (an extracted archive must hold none). */
export function treeOf(dir: string): Tree {
  const out: Tree = {};
  const visit = (rel: string) => {
    for (const d of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const r = rel === '' ? d.name : `${rel}/${d.name}`;
      if (d.isDirectory()) {
        out[r] = 'folder';
        visit(r);
      } else if (d.isFile()) out[r] = describeFile(fs.readFileSync(path.join(dir, r)));
      else out[r] = 'not a file or folder';
    }
  };
  visit('');
  return out;
}

/** Files every archive must hold (relative path → content); names with spaces, non-ASCII and `#?%`. */
const VISIBLE: Record<string, string | Buffer> = {
  'a b.txt': 'hello, archive\n',
  'caf\u00e9/\u00fcn\u00efc\u00f8d\u00e9 #?%.txt': 'na\u00efve r\u00e9sum\u00e9\n',
  'caf\u00e9/deeper/100%.md': '# 100%\n',
  'question?mark#hash.txt': 'q',
  'empty.txt': '',
  // Larger than a read chunk: streamed from the descriptor; random bytes (stored), text (deflated).
  'data/random.bin': randomBytes(1536 * 1024 + 7),
  'data/log.txt': Array.from({ length: 8000 }, (_, i) => `line ${i}: GET /files/${i % 97} 200\n`).join(''),
  'data/pic.png': randomBytes(3000),
};

/** Left out unless `--dotfiles`. */
const DOTFILES: Record<string, string> = { '.secret': 'hidden', '.git/config': '[core]\n', 'data/.env': 'TOKEN=1\n' };

/** Upload temporary files: always left out. */
const PARTIAL: Record<string, string> = { '.upload-0123456789abcdef.partial': 'half an upl', 'data/.upload-lock-0123456789abcdef': 'lock' };

/**
 * Writes the fixture: the files above, two empty folders, a FIFO, and
 * symlinks: to a file and a folder outside `dir` (in `outside`), to a file
 * inside (followed) and to a folder inside (never followed).
 */
export function writeFixture(dir: string, outside: string): void {
  writeTree(dir, { ...VISIBLE, ...DOTFILES, ...PARTIAL });
  fs.mkdirSync(path.join(dir, 'empty folder'));
  fs.mkdirSync(path.join(dir, 'nested', 'empty'), { recursive: true });
  execFileSync('mkfifo', [path.join(dir, 'data', 'pipe')]);
  writeTree(outside, { 'secret.txt': 'outside the served directory', 'dir/also.txt': 'outside too' });
  fs.symlinkSync(path.join(outside, 'secret.txt'), path.join(dir, 'outside-link.txt'));
  fs.symlinkSync(path.join(outside, 'dir'), path.join(dir, 'outside-dir'));
  fs.symlinkSync('a b.txt', path.join(dir, 'inside-link.txt'));
  fs.symlinkSync('caf\u00e9', path.join(dir, 'inside-dir'));
}

/** What the archive of the fixture must unpack to, under its top folder `top`. */
export function expectedTree(top: string, dotfiles: boolean): Tree {
  const files: Record<string, string | Buffer> = { ...VISIBLE, 'inside-link.txt': VISIBLE['a b.txt']!, ...(dotfiles ? DOTFILES : {}) };
  const out: Tree = { [top]: 'folder', [`${top}/empty folder`]: 'folder', [`${top}/nested`]: 'folder', [`${top}/nested/empty`]: 'folder' };
  for (const [rel, content] of Object.entries(files)) {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) out[`${top}/${parts.slice(0, i).join('/')}`] = 'folder';
    out[`${top}/${rel}`] = describeFile(Buffer.isBuffer(content) ? content : Buffer.from(content));
  }
  return out;
}

/** Unpacks `archive` (a zip or a tar) with Debian's unzip or GNU tar into a new folder under `into`; returns that folder. */
export function unpack(format: 'zip' | 'tar', archive: Buffer, into: string): string {
  const file = path.join(into, `download.${format}`);
  const out = path.join(into, `unpacked-${format}-${Date.now()}-${Math.random().toString(16).slice(2)}`);
  fs.mkdirSync(out);
  fs.writeFileSync(file, archive);
  const env = { ...process.env, LANG: 'C.UTF-8' };
  if (format === 'zip') execFileSync('unzip', ['-q', file, '-d', out], { env });
  else execFileSync('tar', ['-xf', file, '-C', out], { env });
  fs.rmSync(file);
  return out;
}
