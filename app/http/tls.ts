/**
 * HTTPS: the listening socket for TLS connections (RFC 8446, RFC 5246).
 * Each accepted connection completes its TLS handshake here and is then
 * handed over as a plain duplex socket, so the parser and the connection
 * drive it exactly as they drive a TCP one.
 *
 * TLS 1.2 is the minimum; ALPN offers `http/1.1` only (RFC 7301), so a
 * client asking for `h2` alone is refused rather than misunderstood. A
 * handshake that has not finished after `handshakeTimeout` milliseconds
 * (a client that opens TCP and sends nothing, or stalls mid-handshake) is
 * cut: the header timeout only starts once there is a connection to time.
 *
 * Two runtimes, two shapes:
 * - Node: a `net.Server` whose connections are wrapped in a server-side
 *   `tls.TLSSocket` with the current `SecureContext`. Swapping that
 *   context (`setCredentials`) changes the certificate for the next
 *   handshake and leaves established connections alone.
 * - Bun 1.3: wrapping an accepted socket server-side never handshakes, so
 *   its native `tls.Server` is used. Its `setSecureContext` only stores the
 *   options for a later `listen`: the certificate of a listening Bun server
 *   cannot change, and `setCredentials` says so by throwing.
 */

import net from 'node:net';
import tls from 'node:tls';

/** A certificate chain and its private key, PEM-encoded. */
export interface TlsCredentials {
  /** Certificate chain, PEM (the server's certificate first). */
  readonly cert: string | Buffer;
  /** Private key of the first certificate, PEM (unencrypted). */
  readonly key: string | Buffer;
}

/** What the TLS listener needs: credentials and the handshake deadline. */
export interface TlsSettings extends TlsCredentials {
  /** Milliseconds a client gets to complete the TLS handshake, from TCP accept. */
  readonly handshakeTimeout: number;
}

/** The listening side of HTTPS. */
export interface TlsListener {
  /** Listens like any `net.Server`; its connection sockets are not yet secure. */
  readonly server: net.Server;
  /**
   * Serves `creds` to every handshake from now on; connections already
   * established keep theirs.
   * @throws Error when the key does not parse or does not match the
   *   certificate (the previous credentials stay in use), or under Bun
   *   (a listening Bun server cannot change its certificate).
   */
  setCredentials(creds: TlsCredentials): void;
}

/** The protocol versions and ALPN list every TLS connection is held to. */
const MIN_VERSION: tls.SecureVersion = 'TLSv1.2';
const ALPN = ['http/1.1'];
const isBun = typeof process.versions.bun === 'string';

/**
 * Builds the context one handshake uses.
 * @throws Error from OpenSSL when a PEM does not parse or the key does not
 *   match the certificate (`key values mismatch`).
 */
export function secureContext(creds: TlsCredentials): tls.SecureContext {
  return tls.createSecureContext({ cert: creds.cert, key: creds.key, minVersion: MIN_VERSION });
}

/**
 * Creates (but does not start) a TLS listener.
 * @param settings credentials and handshake timeout (ms).
 * @param onSecure called once per connection whose handshake completed,
 *   with the socket to read and write HTTP on.
 * @throws Error when the credentials are unusable (see {@link secureContext}).
 */
export function createTlsListener(settings: TlsSettings, onSecure: (socket: net.Socket) => void): TlsListener {
  let context = secureContext(settings);
  const deadline = (socket: net.Socket) => {
    const timer = setTimeout(() => socket.destroy(), settings.handshakeTimeout);
    socket.once('close', () => clearTimeout(timer));
    return timer;
  };

  if (isBun) {
    const handshakes = new WeakMap<net.Socket, NodeJS.Timeout>();
    // Bun 1.3's tls.Server does not read minVersion; its own floor is TLS 1.2 (tests/tls prove the refusal).
    const server = tls.createServer(
      { cert: settings.cert, key: settings.key, minVersion: MIN_VERSION, ALPNProtocols: ALPN, allowHalfOpen: true },
      (socket) => {
        clearTimeout(handshakes.get(socket));
        // Bun 1.3 calls this for a refused handshake too (a TLS 1.1 hello):
        // that socket closes at once, and its connection with it.
        onSecure(socket);
      },
    );
    // Bun's 'connection' socket is the TLS socket itself, before its handshake.
    server.on('connection', (socket: net.Socket) => handshakes.set(socket, deadline(socket)));
    server.on('tlsClientError', () => undefined); // the client's problem, not the server's
    return {
      server,
      setCredentials(creds) {
        secureContext(creds); // says what is wrong with bad credentials first
        throw new Error('Bun 1.3 cannot change the certificate of a listening server (restart to load it)');
      },
    };
  }

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (raw) => {
    const timer = deadline(raw);
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context, ALPNProtocols: ALPN });
    socket.on('error', () => socket.destroy()); // handshake failures; the connection adds its own
    socket.once('secure', () => {
      clearTimeout(timer);
      // As tls.Server does: from now on a TLS error (a record that fails
      // authentication) is an 'error' event, which closes the connection;
      // before it, Node only emits an internal event and the socket stays open.
      (socket as unknown as { _releaseControl?: () => boolean })._releaseControl?.();
      onSecure(socket);
    });
  });
  return {
    server,
    setCredentials(creds) {
      context = secureContext(creds);
    },
  };
}
