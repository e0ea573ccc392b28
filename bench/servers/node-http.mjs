/**
 * Reference server 1: Node's own node:http, with the routes of our stages
 * written the way a user of node:http would write them (explicit
 * Content-Type and Content-Length, the rest of node:http's defaults kept:
 * it also sends `Date`, `Connection: keep-alive` and `Keep-Alive`).
 *
 * Usage: node bench/servers/node-http.mjs <port> <directory>
 * Prints "Listening on http://localhost:<port>" once ready.
 */

import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream';

const port = Number(process.argv[2] ?? 0);
const directory = process.argv[3] ?? process.cwd();

function text(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function empty(res, status) {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const p = q === -1 ? url : url.slice(0, q);
  if (p === '/') return empty(res, 200);
  if (p.startsWith('/echo/')) {
    let s;
    try {
      s = decodeURIComponent(p.slice(6));
    } catch {
      return empty(res, 400);
    }
    return text(res, 200, s);
  }
  if (p === '/user-agent') return text(res, 200, req.headers['user-agent'] ?? '');
  if (p.startsWith('/files/')) {
    const name = path.basename(decodeURIComponent(p.slice(7)));
    const file = path.join(directory, name);
    if (req.method === 'POST') {
      pipeline(req, createWriteStream(file), (err) => (err ? empty(res, 500) : empty(res, 201)));
      return;
    }
    stat(file).then(
      (st) => {
        res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': st.size });
        pipeline(createReadStream(file), res, () => undefined);
      },
      () => empty(res, 404),
    );
    return;
  }
  return empty(res, 404);
});

server.listen(port, '127.0.0.1', () => {
  console.log(`Listening on http://localhost:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
