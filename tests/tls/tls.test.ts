// HTTPS as a user meets it: curl with --cacert, ranges and a 100 MB
// upload over TLS, protocol versions and ALPN as openssl s_client sees
// them, the handshake timeout, the same limits as plain connections,
// SIGHUP reloading the certificate (with the access log reopened on the
// same signal), --tls-self-signed, bad certificates, and --workers.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, openSync, readFileSync, renameSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import net from 'node:net';
import { Duplex } from 'node:stream';
import tls from 'node:tls';
import os from 'node:os';
import path from 'node:path';
import { type Launched, launch, until } from '../ops/helpers';
import { type CertFiles, curl, makeCert, removeScratch, sClient, scratch, servedCertificate, servedFingerprint, startTls, tlsClient } from './helpers';

let dir: string;
let a: CertFiles;
let b: CertFiles;
let server: (Launched & { tlsPort: number }) | undefined;
beforeAll(() => {
  dir = scratch('tls-');
  a = makeCert(dir, 'a');
  b = makeCert(dir, 'b');
});
afterEach(async () => {
  await server?.stop();
  server = undefined;
});
afterAll(() => removeScratch(dir));

const withCert = (c: CertFiles) => ['--tls-cert', c.cert, '--tls-key', c.key];

function sha256File(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file).on('data', (d) => h.update(d)).on('end', () => resolve(h.digest('hex'))).on('error', reject);
  });
}

describe('curl over HTTPS', () => {
  let files: string;
  beforeAll(() => {
    files = scratch('tls-files-');
  });
  afterAll(() => removeScratch(files));

  test('--cacert trusts the server, ALPN settles on http/1.1, --compressed gets a coded answer it decodes', async () => {
    server = await startTls(withCert(a));
    const r = await curl(a.cert, ['-v', '--compressed', `https://localhost:${server.tlsPort}/echo/hello-tls`]);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('hello-tls');
    expect(r.stderr).toMatch(/ALPN: server accepted http\/1\.1/);
    expect(r.stderr).toMatch(/< Content-Encoding: (gzip|br|deflate|zstd)/);
    // Without the certificate trusted, curl refuses the connection.
    const untrusted = await curl(b.cert, [`https://localhost:${server.tlsPort}/`]);
    expect(untrusted.code).toBe(60);
    // The banner names the certificate and its fingerprint.
    await until(() => server!.stderr().includes('SHA-256 fingerprint'), 'the banner');
    expect(server.stderr()).toContain(`TLS: certificate from ${a.cert}`);
    expect(server.stderr()).toContain(`SHA-256 fingerprint ${a.fingerprint}`);
  });

  test('the file server knows it is https: a MOVE to an https:// Destination on this server works, the QR code shows https', async () => {
    writeFileSync(path.join(files, 'before.txt'), 'moved over TLS');
    server = await startTls([...withCert(a), '--directory', files]);
    const origin = `https://localhost:${server.tlsPort}`;
    const moved = await curl(a.cert, ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'MOVE', '-H', `Destination: ${origin}/files/after.txt`, `${origin}/files/before.txt`]);
    expect(moved.stdout.toString()).toBe('201');
    expect(readFileSync(path.join(files, 'after.txt'), 'utf8')).toBe('moved over TLS');
    // The same Destination in http:// names another server (RFC 4918 §9.9.4: 502).
    const other = await curl(a.cert, ['-s', '-o', '/dev/null', '-w', '%{http_code}', '-X', 'MOVE', '-H', `Destination: http://localhost:${server.tlsPort}/files/x.txt`, `${origin}/files/after.txt`]);
    expect(other.stdout.toString()).toBe('502');
    const qr = await curl(a.cert, ['-s', '-H', 'Host: 192.0.2.7:8443', `${origin}/files/?qr`]);
    expect(qr.stdout.toString()).toContain('<title>https://192.0.2.7:8443/files/</title>');
  });

  test('ranges: one range is 206 with the exact slice; several are multipart/byteranges', async () => {
    const content = randomBytes(100_000);
    writeFileSync(path.join(files, 'r.bin'), content);
    server = await startTls([...withCert(a), '--directory', files]);
    const one = await curl(a.cert, ['-D', path.join(files, 'one.head'), '-r', '1000-1999', `https://localhost:${server.tlsPort}/files/r.bin`]);
    expect(one.code).toBe(0);
    const head = readFileSync(path.join(files, 'one.head'), 'latin1');
    expect(head).toMatch(/^HTTP\/1\.1 206 Partial Content\r\n/);
    expect(head).toMatch(/\r\nContent-Range: bytes 1000-1999\/100000\r\n/i);
    expect(one.stdout.equals(content.subarray(1000, 2000))).toBe(true);
    const many = await curl(a.cert, ['-i', '-r', '0-9,50000-50009', `https://localhost:${server.tlsPort}/files/r.bin`]);
    const text = many.stdout.toString('latin1');
    expect(text).toMatch(/Content-Type: multipart\/byteranges; boundary=/i);
    expect(text).toContain(content.subarray(50000, 50010).toString('latin1'));
  });

  test('a 100 MB upload streams through TLS to disk, byte-exact (same SHA-256)', async () => {
    const source = path.join(dir, 'big.bin');
    const fd = openSync(source, 'w');
    for (let i = 0; i < 100; i++) writeSync(fd, randomBytes(1024 * 1024));
    closeSync(fd);
    server = await startTls([...withCert(a), '--directory', files]);
    const r = await curl(a.cert, ['-o', '/dev/null', '-w', '%{http_code}', '-X', 'POST', '-T', source, `https://localhost:${server.tlsPort}/files/big.bin`], 120_000);
    expect(r.code).toBe(0);
    expect(r.stdout.toString()).toBe('201');
    expect(await sha256File(path.join(files, 'big.bin'))).toBe(await sha256File(source));
  }, 150_000);
});

describe.each(['node', 'bun'] as const)('protocol versions and ALPN, under %s', (rt) => {
  /** OpenSSL's own test server on a free port, allowing TLS 1.0 to 1.3 (security level 0): the control. */
  async function permissiveServer(): Promise<{ port: number; child: ChildProcess }> {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    // stdin stays open: s_server stops at its end.
    const child = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, '-cert', a.cert, '-key', a.key, '-cipher', 'DEFAULT:@SECLEVEL=0'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    await until(() => out.includes('ACCEPT'), 'openssl s_server to listen');
    return { port, child };
  }

  test.each([['-tls1_1'], ['-tls1']])('%s is refused by the server (alert protocol_version), though the client can speak it', async (flag) => {
    const control = await permissiveServer();
    try {
      const ok = await sClient(control.port, [flag, '-cipher', 'DEFAULT:@SECLEVEL=0']);
      expect(ok.code).toBe(0);
      expect(ok.stdout.toString()).toMatch(/New, TLSv1(\.0)?, Cipher is [A-Z]/);
    } finally {
      control.child.kill();
    }
    server = await startTls(withCert(a), rt);
    const refused = await sClient(server.tlsPort, [flag, '-cipher', 'DEFAULT:@SECLEVEL=0']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/alert protocol version/);
    expect(refused.stdout.toString()).toMatch(/Cipher is \(NONE\)/);
  });

  test.each([['-tls1_2', 'TLSv1.2'], ['-tls1_3', 'TLSv1.3']])('%s is accepted, ALPN http/1.1 negotiated', async (flag, version) => {
    server = await startTls(withCert(a), rt);
    const r = await sClient(server.tlsPort, [flag, '-alpn', 'h2,http/1.1']);
    expect(r.code).toBe(0);
    const out = r.stdout.toString();
    expect(out).toContain(`New, ${version}, Cipher is `);
    expect(out).toContain('ALPN protocol: http/1.1');
  });

  test('a client offering only h2 is refused (alert no_application_protocol) rather than answered in HTTP/1.1', async () => {
    server = await startTls(withCert(a), rt);
    const r = await sClient(server.tlsPort, ['-alpn', 'h2']);
    expect(r.stderr).toMatch(/alert no application protocol/);
  });
});

describe.each(['node', 'bun'] as const)('timeouts and limits as on plain connections, under %s', (rt) => {
  test('a client that opens TCP and never starts the handshake is closed after --tls-handshake-timeout', async () => {
    server = await startTls([...withCert(a), '--tls-handshake-timeout', '400'], rt);
    const started = Date.now();
    const closedAfter = await new Promise<number>((resolve, reject) => {
      const s = net.connect(server!.tlsPort, '127.0.0.1');
      s.on('error', () => undefined);
      s.on('close', () => resolve(Date.now() - started));
      setTimeout(() => reject(new Error('still open after 10 s')), 10_000);
    });
    expect(closedAfter).toBeGreaterThanOrEqual(250); // not at once (timers may fire a little early)
    expect(closedAfter).toBeLessThan(5000);
    // A completed handshake is not cut by it: an idle TLS connection lives until the keep-alive timeout.
    const c = await tlsClient(server.tlsPort, a.pem);
    await c.expectOpenAndQuiet(800);
    c.send('GET /echo/still HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect((await c.readResponse()).body.toString()).toBe('still');
    c.close();
  });

  test('a record that fails authentication after the handshake gets an alert and the connection closes at once', async () => {
    server = await startTls([...withCert(a), '--keep-alive-timeout', '60000'], rt);
    // TLS over a stream we feed: the bytes under it stay ours to write.
    const raw = await new Promise<net.Socket>((resolve) => {
      const r = net.connect(server!.tlsPort, '127.0.0.1', () => resolve(r));
    });
    const below = new Duplex({
      read: () => undefined,
      write: (chunk: Buffer, _enc, done) => raw.write(chunk, () => done()),
    });
    raw.on('data', (d: Buffer) => below.push(d));
    raw.on('end', () => below.push(null));
    const secure = tls.connect({ socket: below, ca: a.pem, servername: 'localhost' });
    secure.on('error', () => undefined);
    await new Promise((resolve) => secure.once('secureConnect', resolve));
    secure.write('GET /echo/before HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await new Promise((resolve) => secure.once('data', resolve));
    const started = Date.now();
    const closed = new Promise<number>((resolve) => {
      raw.once('close', () => resolve(Date.now() - started));
      setTimeout(() => resolve(Infinity), 5000);
    });
    raw.write(Buffer.concat([Buffer.from([0x17, 0x03, 0x03, 0x00, 0x40]), Buffer.alloc(64)])); // application data, forged
    expect(await closed).toBeLessThan(5000); // not left to the 60 s keep-alive timeout
  });

  test('a head that stops half-way is answered 408 after --headers-timeout; a long target is 414', async () => {
    server = await startTls([...withCert(a), '--headers-timeout', '500', '--max-target-length', '100'], rt);
    const slow = await tlsClient(server.tlsPort, a.pem);
    slow.send('GET /echo/x HTTP/1.1\r\nHost: loc');
    const res = await slow.readResponse({ timeoutMs: 5000 });
    expect(res.status).toBe(408);
    await slow.expectClosed();
    const long = await tlsClient(server.tlsPort, a.pem);
    long.send(`GET /echo/${'x'.repeat(200)} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    expect((await long.readResponse()).status).toBe(414);
    await long.expectClosed();
  });
});

describe('SIGHUP reloads the certificate', () => {
  test('new connections get the new certificate, an open keep-alive connection keeps working, the access log is reopened too', async () => {
    const cert = path.join(dir, 'live.crt');
    const key = path.join(dir, 'live.key');
    const log = path.join(dir, 'access.log');
    copyFileSync(a.cert, cert);
    copyFileSync(a.key, key);
    server = await startTls(['--tls-cert', cert, '--tls-key', key, '--access-log', log]);
    expect(await servedFingerprint(server.tlsPort)).toBe(a.fingerprint);
    const open = await tlsClient(server.tlsPort, a.pem);
    open.send('GET /echo/before HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect((await open.readResponse()).body.toString()).toBe('before');

    copyFileSync(b.cert, cert);
    copyFileSync(b.key, key);
    renameSync(log, `${log}.1`); // as logrotate does
    server.process.kill('SIGHUP');
    await until(() => server!.stderr().includes('TLS certificate reloaded'), 'the reload message');
    expect(server.stderr()).toContain(`TLS certificate reloaded from ${cert} (SHA-256 ${b.fingerprint})`);
    expect(await servedFingerprint(server.tlsPort)).toBe(b.fingerprint);
    const fresh = await tlsClient(server.tlsPort, b.pem);
    fresh.send('GET /echo/after HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect((await fresh.readResponse()).body.toString()).toBe('after');
    fresh.close();

    open.send('GET /echo/still-open HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect((await open.readResponse()).body.toString()).toBe('still-open');
    expect(open.socket.getPeerX509Certificate()!.fingerprint256).toBe(a.fingerprint);
    open.close();
    await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('/echo/after'), 'the reopened access log');
    expect(readFileSync(`${log}.1`, 'utf8')).toContain('/echo/before');
  });

  test('a bad new certificate keeps the old one in service and says so on stderr', async () => {
    const cert = path.join(dir, 'bad.crt');
    const key = path.join(dir, 'bad.key');
    copyFileSync(a.cert, cert);
    copyFileSync(a.key, key);
    server = await startTls(['--tls-cert', cert, '--tls-key', key]);
    writeFileSync(cert, 'not a certificate\n');
    server.process.kill('SIGHUP');
    await until(() => server!.stderr().includes('not reloaded'), 'the warning');
    expect(server.stderr()).toMatch(/warning: TLS certificate not reloaded: --tls-cert .*bad\.crt: not a PEM certificate .*; still serving the previous one/);
    // A key that does not match the certificate is refused too.
    copyFileSync(b.cert, cert);
    server.process.kill('SIGHUP');
    await until(() => /not reloaded: --tls-key .*key values mismatch/.test(server!.stderr()), 'the mismatch warning');
    expect(await servedFingerprint(server.tlsPort)).toBe(a.fingerprint);
    const c = await tlsClient(server.tlsPort, a.pem);
    c.send('GET /echo/ok HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect((await c.readResponse()).body.toString()).toBe('ok');
    c.close();
  });

  test('under Bun 1.3 the certificate cannot change while listening: SIGHUP says so and keeps serving the old one', async () => {
    const cert = path.join(dir, 'bun.crt');
    const key = path.join(dir, 'bun.key');
    copyFileSync(a.cert, cert);
    copyFileSync(a.key, key);
    server = await startTls(['--tls-cert', cert, '--tls-key', key], 'bun');
    copyFileSync(b.cert, cert);
    copyFileSync(b.key, key);
    server.process.kill('SIGHUP');
    await until(() => server!.stderr().includes('not reloaded'), 'the warning');
    expect(server.stderr()).toContain('Bun 1.3 cannot change the certificate of a listening server (restart to load it)');
    expect(await servedFingerprint(server.tlsPort)).toBe(a.fingerprint);
  });
});

describe.each(['node', 'bun'] as const)('--tls-self-signed, under %s', (rt) => {
  test('makes a certificate for localhost, the host name and its addresses; the banner prints its SHA-256 fingerprint', async () => {
    server = await startTls(['--tls-self-signed'], rt);
    await until(() => server!.stderr().includes('SHA-256 fingerprint'), 'the banner');
    const served = await servedCertificate(server.tlsPort);
    expect(server.stderr()).toContain(`SHA-256 fingerprint ${served.fingerprint256}`);
    expect(server.stdout()).toMatch(/^Listening on https:\/\/localhost:\d+ /);
    expect(server.stderr()).toContain(`https://127.0.0.1:${server.tlsPort}/`);
    const san = served.subjectAltName ?? '';
    expect(san).toContain('DNS:localhost');
    expect(san).toContain(`DNS:${os.hostname()}`);
    expect(san).toContain('IP Address:127.0.0.1');
    // Trusting that one certificate is enough for curl.
    const pem = path.join(dir, 'self.pem');
    writeFileSync(pem, served.toString());
    const r = await curl(pem, [`https://localhost:${server.tlsPort}/echo/self`]);
    expect(r.stdout.toString()).toBe('self');
  });
});

describe('startup', () => {
  test('an unreadable, unparsable or mismatched certificate stops the server with one line; half a pair is a usage error', async () => {
    const garbage = path.join(dir, 'garbage.pem');
    writeFileSync(garbage, 'hello\n');
    const cases: Array<[string[], number | string, RegExp]> = [
      [['--tls-cert', path.join(dir, 'missing.crt'), '--tls-key', a.key], 1, /^error: --tls-cert .*missing\.crt: ENOENT$/m],
      [['--tls-cert', garbage, '--tls-key', a.key], 1, /^error: --tls-cert .*garbage\.pem: not a PEM certificate/m],
      [['--tls-cert', a.cert, '--tls-key', b.key], 1, /^error: --tls-key .*b\.key with --tls-cert .*a\.crt: .*key values mismatch/m],
      [['--tls-cert', a.cert], 2, /--tls-cert needs --tls-key too/],
      [['--tls-self-signed', '--tls-cert', a.cert], 2, /--tls-self-signed makes its own certificate/],
    ];
    for (const [args, code, message] of cases) {
      const s = launch(['--host', '127.0.0.1', '--port', '0', ...args]);
      expect(await s.exited).toBe(code);
      expect(s.stderr()).toMatch(message);
      expect(s.stdout()).toBe('');
    }
  });
});

describe('--workers', () => {
  test('every worker serves the same self-signed certificate, the one the banner names', async () => {
    server = await startTls(['--tls-self-signed', '--workers', '2']);
    await until(() => server!.stderr().includes('SHA-256 fingerprint'), 'the banner');
    const fp = /SHA-256 fingerprint ([0-9A-F:]+)/.exec(server.stderr())![1];
    for (let i = 0; i < 6; i++) expect(await servedFingerprint(server.tlsPort)).toBe(fp);
  });

  test('SIGHUP to the primary reaches every worker: each reloads the files', async () => {
    const cert = path.join(dir, 'w.crt');
    const key = path.join(dir, 'w.key');
    copyFileSync(a.cert, cert);
    copyFileSync(a.key, key);
    server = await startTls(['--tls-cert', cert, '--tls-key', key, '--workers', '2']);
    copyFileSync(b.cert, cert);
    copyFileSync(b.key, key);
    server.process.kill('SIGHUP');
    await until(() => server!.stderr().split('TLS certificate reloaded').length - 1 === 2, 'two reload messages');
    // Round-robin over the workers: every new connection gets the new certificate.
    for (let i = 0; i < 6; i++) expect(await servedFingerprint(server.tlsPort)).toBe(b.fingerprint);
    const c = await tlsClient(server.tlsPort, b.pem);
    c.send('GET /echo/w HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect((await c.readResponse()).body.toString()).toBe('w');
    c.close();
  });
});
