#!/usr/bin/env node
/**
 * Fills the source excerpts of the learning path (docs/learn/*.md) from the
 * code, and checks every code reference a page makes.
 *
 *   node scripts/learn-excerpts.mjs           rewrite stale excerpts in place
 *   node scripts/learn-excerpts.mjs --check   change nothing; print a JSON
 *                                             report, exit 1 on any problem
 *
 * An excerpt is a block in a page:
 *
 *   <!-- excerpt: stages/echo.ts#echoRoute -->
 *   ...anything (replaced)...
 *   <!-- /excerpt -->
 *
 * The symbol is found with the TypeScript compiler API, never by line
 * numbers, so edits elsewhere in the file do not move it: `name` is a
 * top-level function, class, interface, type, enum or variable; `Class.member`
 * a member of a top-level class. Its doc comment comes with it. `max=N`
 * after the symbol keeps the first N lines and says how many were left out.
 *
 * A reference is an inline code span naming a path in the repository,
 * optionally with a symbol: `app/http/parser.ts` or
 * `app/http/parser.ts#RequestParser.push`. The path must exist; the symbol
 * must be found the same way as an excerpt's.
 */

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const LEARN_DIR = path.join(ROOT, 'docs', 'learn');

const EXCERPT_RE = /<!-- excerpt: ([^\s#]+)#([\w.$]+)((?: \w+=\S+)*) -->\n[\s\S]*?<!-- \/excerpt -->/g;
/** Inline code naming a repository path (optionally `#Symbol`). */
const REFERENCE_RE = /`((?:app|stages|tests|bench|scripts|docs)\/[\w./-]*[\w/])(?:#([\w.$]+))?`/g;

const sourceFiles = new Map();

function sourceFile(file) {
  let sf = sourceFiles.get(file);
  if (sf === undefined) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    sourceFiles.set(file, sf);
  }
  return sf;
}

function declaredName(node) {
  if (ts.isVariableStatement(node)) {
    return node.declarationList.declarations.map((d) => (ts.isIdentifier(d.name) ? d.name.text : undefined));
  }
  const name = node.name;
  if (name === undefined) return [];
  if (ts.isIdentifier(name) || ts.isPrivateIdentifier(name) || ts.isStringLiteral(name)) return [name.text];
  return [];
}

/**
 * The declaration of `symbol` in `file` (a path from the repository root).
 * @returns `{ text, line }`: the declaration with its doc comment, dedented,
 *   and the 1-based line it starts on; `null` when there is no such symbol.
 */
export function findDeclaration(file, symbol) {
  if (!/\.(ts|mts|js|mjs)$/.test(file) || !fs.existsSync(path.join(ROOT, file))) return null;
  const sf = sourceFile(file);
  const [outer, member] = symbol.split('.');
  let node = sf.statements.find((s) => declaredName(s).includes(outer));
  if (node === undefined) return null;
  if (member !== undefined) {
    if (!ts.isClassDeclaration(node) && !ts.isInterfaceDeclaration(node)) return null;
    node = node.members.find((m) => declaredName(m).includes(member));
    if (node === undefined) return null;
  }
  const text = sf.getFullText();
  let start = node.getStart(sf);
  // Keep the doc comment (the last `/** */` right before the declaration).
  const comments = ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [];
  const doc = comments.filter((c) => text.startsWith('/**', c.pos)).at(-1);
  if (doc !== undefined) start = doc.pos;
  const lineStart = text.lastIndexOf('\n', start - 1) + 1;
  const raw = text.slice(lineStart, node.getEnd());
  const lines = raw.split('\n');
  const indent = Math.min(...lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)[0].length));
  return {
    text: lines.map((l) => l.slice(indent)).join('\n'),
    line: sf.getLineAndCharacterOfPosition(lineStart).line + 1,
  };
}

function excerptBlock(file, symbol, options) {
  const decl = findDeclaration(file, symbol);
  if (decl === null) return null;
  let lines = decl.text.split('\n');
  const max = Number(/max=(\d+)/.exec(options)?.[1] ?? Infinity);
  if (lines.length > max) {
    const left = lines.length - max;
    lines = [...lines.slice(0, max), `// … ${left} more line${left === 1 ? '' : 's'}: see the source`];
  }
  const lang = /\.m?js$/.test(file) ? 'js' : 'ts';
  return `<!-- excerpt: ${file}#${symbol}${options} -->\n\`\`\`${lang}\n// ${file}: ${symbol}\n${lines.join('\n')}\n\`\`\`\n<!-- /excerpt -->`;
}

/**
 * A page with every excerpt regenerated from the source.
 * @returns `{ text, missing }`: the new text and the `file#symbol`s not found
 *   (their blocks are left as they were).
 */
export function renderPage(pageText) {
  const missing = [];
  const text = pageText.replace(EXCERPT_RE, (whole, file, symbol, options) => {
    const block = excerptBlock(file, symbol, options);
    if (block === null) {
      missing.push(`${file}#${symbol}`);
      return whole;
    }
    return block;
  });
  return { text, missing };
}

/** The `path#symbol` references in a page (excerpt markers included) that do not resolve. */
export function brokenReferences(pageText) {
  const broken = [];
  const check = (file, symbol) => {
    if (!fs.existsSync(path.join(ROOT, file))) broken.push(`${file} (no such file)`);
    else if (symbol !== undefined && findDeclaration(file, symbol) === null) broken.push(`${file}#${symbol} (no such symbol)`);
  };
  // Code blocks may show shell commands with paths; only inline code and excerpt markers count.
  const prose = pageText.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of prose.matchAll(REFERENCE_RE)) check(m[1], m[2]);
  for (const m of pageText.matchAll(/<!-- excerpt: ([^\s#]+)#([\w.$]+)/g)) check(m[1], m[2]);
  return broken;
}

/** Every page of the learning path, as paths relative to the repository root. */
export function learnPages() {
  return fs
    .readdirSync(LEARN_DIR)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => path.posix.join('docs', 'learn', f));
}

function main() {
  const checkOnly = process.argv.includes('--check');
  const report = { stale: [], missing: [], broken: [] };
  for (const page of learnPages()) {
    const file = path.join(ROOT, page);
    const before = fs.readFileSync(file, 'utf8');
    const { text, missing } = renderPage(before);
    for (const m of missing) report.missing.push(`${page}: ${m}`);
    for (const b of brokenReferences(text)) report.broken.push(`${page}: ${b}`);
    if (text !== before) {
      report.stale.push(page);
      if (!checkOnly) fs.writeFileSync(file, text);
    }
  }
  if (checkOnly) {
    console.log(JSON.stringify(report, null, 2));
    if (report.stale.length + report.missing.length + report.broken.length > 0) process.exit(1);
    return;
  }
  for (const p of report.stale) console.log(`updated ${p}`);
  for (const p of [...report.missing, ...report.broken]) console.error(`error: ${p}`);
  if (report.missing.length + report.broken.length > 0) process.exit(1);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
