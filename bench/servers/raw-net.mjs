/**
 * Reference server 2, the ceiling for one Node process: a node:net server
 * that parses nothing. It answers one fixed response (given in base64 on
 * the command line; the bench passes the exact bytes our server sent for
 * the same request) per request it sees, and a request is "seen" at each
 * CRLFCRLF, the end of a header section. That keeps pipelining honest (16
 * requests in a chunk get 16 responses in one write) and works for POST
 * as long as no body contains CRLFCRLF (the bench's bodies are all "x").
 * The pattern is also found when it straddles two chunks.
 *
 * With --close it ends the connection after its first response (the
 * `Connection: close` workload).
 *
 * Usage: node bench/servers/raw-net.mjs <port> <response-base64> [--close]
 * Prints "Listening on http://localhost:<port>" once ready.
 */

import net from 'node:net';

const port = Number(process.argv[2] ?? 0);
const response = Buffer.from(process.argv[3] ?? '', 'base64');
const closeAfterOne = process.argv.includes('--close');

// Responses for 1..64 requests at once, built up front.
const batches = [Buffer.alloc(0)];
for (let n = 1; n <= 64; n++) batches.push(Buffer.concat(Array(n).fill(response)));
const answers = (n) => (n < batches.length ? batches[n] : Buffer.concat(Array(n).fill(response)));

const PATTERN = Buffer.from('\r\n\r\n', 'latin1');

/** How many bytes at the end of `buf` are a proper prefix of CRLFCRLF (0..3). */
function partialTail(buf) {
  const n = buf.length;
  if (n >= 3 && buf[n - 3] === 13 && buf[n - 2] === 10 && buf[n - 1] === 13) return 3;
  if (n >= 2 && buf[n - 2] === 13 && buf[n - 1] === 10) return 2;
  if (n >= 1 && buf[n - 1] === 13) return 1;
  return 0;
}

/** True when `buf` starts with the last 4-k bytes of CRLFCRLF. */
function completes(buf, k) {
  for (let i = k; i < 4; i++) if (buf[i - k] !== PATTERN[i]) return false;
  return buf.length >= 4 - k;
}

const server = net.createServer({ noDelay: true }, (socket) => {
  let carry = 0; // pattern bytes matched at the end of the previous chunk
  socket.on('data', (chunk) => {
    let count = 0;
    let from = 0;
    if (carry !== 0) {
      if (completes(chunk, carry)) {
        count++;
        from = 4 - carry;
      } else if (carry === 3 && completes(chunk, 1)) {
        count++;
        from = 3;
      }
    }
    for (;;) {
      const at = chunk.indexOf(PATTERN, from);
      if (at === -1) break;
      count++;
      from = at + 4;
    }
    carry = partialTail(chunk.subarray(from));
    if (count === 0) return;
    if (closeAfterOne) {
      socket.end(response);
      return;
    }
    socket.write(answers(count));
  });
  socket.on('error', () => socket.destroy());
});

server.listen(port, '127.0.0.1', () => {
  console.log(`Listening on http://localhost:${server.address().port}`);
});
process.on('SIGTERM', () => process.exit(0));
