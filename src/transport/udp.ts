/**
 * UDP transport: connected `node:dgram` sockets, IPv4 and IPv6, RTCP muxed on the RTP socket (RFC 5761) or on a
 * second socket bound to RTP port + 1 when free (as ffmpeg does).
 *
 * One transport = one local RTP socket for the whole session: KOOK binds its address to the first source ip:port it
 * sees, so every track of a playlist must leave from the same socket.
 */

import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { KookRtpError } from '../errors.js';
import { classifyPacket } from '../wire/demux.js';
import {
  type PacketKind,
  type PacketTransport,
  type PacketTransportHandlers,
  SendErrorPolicy,
  type SendErrorPolicyOptions,
  type TransportInfo,
  type TransportStats,
} from './transport.js';

/** Options of {@link openUdpTransport}. */
export interface UdpTransportOptions {
  /** Remote host: an IPv4/IPv6 literal (brackets allowed) or a name resolved with the system resolver. */
  host: string;
  /** Remote RTP port. */
  port: number;
  /** Remote RTCP port when not muxed. Default `port + 1`. */
  rtcpPort?: number;
  /** RTP and RTCP on one socket and port (RFC 5761). Default true. */
  rtcpMux?: boolean;
  /** Local RTP port. Default: an ephemeral port. */
  localPort?: number;
  /** Local address to bind. Default: the wildcard address of the family. */
  localAddress?: string;
  /** Monotonic ms time for error backoff. Default `performance.now`. */
  now?: () => number;
  /** Send-error backoff, see {@link SendErrorPolicy}. */
  errorPolicy?: SendErrorPolicyOptions;
}

interface Counters {
  sent: number;
  sendErrors: number;
  skipped: number;
  rtcpReceived: number;
  otherReceived: number;
  lastErrorCode: string | undefined;
}

const NOOP_HANDLERS: PacketTransportHandlers = { onRtcp: () => {}, onSendError: () => {} };

/** A {@link PacketTransport} over connected UDP sockets. Create with {@link openUdpTransport}. */
export class UdpTransport implements PacketTransport {
  /** Addresses in use. */
  readonly info: TransportInfo;
  readonly #rtp: dgram.Socket;
  readonly #rtcp: dgram.Socket | undefined;
  readonly #now: () => number;
  readonly #policy: SendErrorPolicy;
  /** Split sessions keep a separate streak for the RTCP socket: a dead RTCP port must not silence RTP. */
  readonly #rtcpPolicy: SendErrorPolicy;
  #handlers: PacketTransportHandlers = NOOP_HANDLERS;
  #closed = false;
  #closing: Promise<void> | undefined;
  readonly #c: Counters = { sent: 0, sendErrors: 0, skipped: 0, rtcpReceived: 0, otherReceived: 0, lastErrorCode: undefined };
  // One callback per socket kind, bound once: no closure allocated per datagram.
  readonly #onRtpSent = (err: Error | null): void => this.#sent('rtp', err);
  readonly #onRtcpSent = (err: Error | null): void => this.#sent('rtcp', err);

  /** @internal Use {@link openUdpTransport}. */
  constructor(
    rtp: dgram.Socket,
    rtcp: dgram.Socket | undefined,
    info: TransportInfo,
    now: () => number,
    policyOptions: SendErrorPolicyOptions | undefined,
  ) {
    this.#rtp = rtp;
    this.#rtcp = rtcp;
    this.info = info;
    this.#now = now;
    this.#policy = new SendErrorPolicy(policyOptions);
    this.#rtcpPolicy = rtcp === undefined ? this.#policy : new SendErrorPolicy(policyOptions);
    // RTCP is accepted on either socket: some servers answer to the source port of the RTP flow even when split.
    rtp.on('message', (msg: Buffer) => this.#received(msg));
    rtp.on('error', (err) => this.#sent('rtp', err));
    if (rtcp !== undefined) {
      rtcp.on('message', (msg: Buffer) => this.#received(msg));
      rtcp.on('error', (err) => this.#sent('rtcp', err));
    }
  }

  /** Installs the receive and error callbacks. */
  setHandlers(handlers: PacketTransportHandlers): void {
    this.#handlers = handlers;
  }

  /** Sends one RTP datagram (never throws). @returns false when skipped. */
  sendRtp(bytes: Uint8Array): boolean {
    return this.#send(this.#rtp, this.#policy, bytes, this.#onRtpSent);
  }

  /** Sends one RTCP datagram (never throws). @returns false when skipped. */
  sendRtcp(bytes: Uint8Array): boolean {
    return this.#send(this.#rtcp ?? this.#rtp, this.#rtcpPolicy, bytes, this.#onRtcpSent);
  }

  /** Counters. */
  stats(): TransportStats {
    return { ...this.#c };
  }

  /** Closes both sockets; idempotent, never rejects. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      await Promise.all([closeSocket(this.#rtp), this.#rtcp === undefined ? undefined : closeSocket(this.#rtcp)]);
    })();
    return this.#closing;
  }

  #send(socket: dgram.Socket, policy: SendErrorPolicy, bytes: Uint8Array, cb: (err: Error | null) => void): boolean {
    if (this.#closed) return false;
    if (policy.shouldSkip(this.#now())) {
      this.#c.skipped++;
      return false;
    }
    try {
      socket.send(bytes, cb);
      this.#c.sent++;
      return true;
    } catch (err) {
      // Synchronous throws (socket closed under us, bad argument) are counted like asynchronous ones.
      this.#sent(socket === this.#rtp ? 'rtp' : 'rtcp', err instanceof Error ? err : new Error(String(err)));
      return false;
    }
  }

  #sent(kind: PacketKind, err: Error | null): void {
    if (err === null || this.#closed) return;
    this.#c.sendErrors++;
    const code = typeof (err as NodeJS.ErrnoException).code === 'string' ? ((err as NodeJS.ErrnoException).code as string) : 'UNKNOWN';
    this.#c.lastErrorCode = code;
    const policy = kind === 'rtp' ? this.#policy : this.#rtcpPolicy;
    const { report, backoffMs } = policy.failure(this.#now());
    if (!report) return;
    try {
      this.#handlers.onSendError({ kind, code, error: err, consecutive: policy.consecutive, backoffMs });
    } catch {
      // A throwing listener must not turn into an uncaught exception inside a dgram callback.
    }
  }

  #received(msg: Buffer): void {
    if (classifyPacket(msg) === 'rtcp') {
      this.#c.rtcpReceived++;
      try {
        this.#handlers.onRtcp(msg);
      } catch {
        // Same as above: never throw out of a socket event.
      }
    } else {
      this.#c.otherReceived++;
    }
  }
}

/**
 * Opens and connects the socket(s) of one RTP session.
 *
 * @param options - see {@link UdpTransportOptions}.
 * @returns the connected transport.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a bad port, `SOCKET_ERROR` when resolving, binding or
 *   connecting fails (any socket already opened is closed again).
 */
export async function openUdpTransport(options: UdpTransportOptions): Promise<UdpTransport> {
  const mux = options.rtcpMux ?? true;
  checkPort(options.port, 'port', false);
  const rtcpPort = options.rtcpPort ?? options.port + 1;
  if (!mux) checkPort(rtcpPort, 'rtcpPort', false);
  if (options.localPort !== undefined) checkPort(options.localPort, 'localPort', true);

  const address = await resolve(options.host);
  const family = isIP(address) === 6 ? 'udp6' : 'udp4';
  const opened: dgram.Socket[] = [];
  try {
    const rtp = createSocket(family, opened);
    await bind(rtp, options.localPort ?? 0, options.localAddress);
    const localPort = rtp.address().port;
    let rtcp: dgram.Socket | undefined;
    let rtcpLocalPort = localPort;
    if (!mux) {
      rtcp = createSocket(family, opened);
      // ffmpeg's convention: RTCP leaves from RTP port + 1; fall back to any port when that one is taken.
      const wanted = localPort + 1 <= 65535 ? localPort + 1 : 0;
      try {
        await bind(rtcp, wanted, options.localAddress);
      } catch {
        rtcp.close();
        opened.pop();
        rtcp = createSocket(family, opened);
        await bind(rtcp, 0, options.localAddress);
      }
      rtcpLocalPort = rtcp.address().port;
    }
    await connect(rtp, options.port, address);
    if (rtcp !== undefined) await connect(rtcp, rtcpPort, address);
    const info: TransportInfo = {
      family,
      localAddress: rtp.address().address,
      localPort,
      rtcpLocalPort,
      remoteAddress: address,
      remotePort: options.port,
      remoteRtcpPort: mux ? options.port : rtcpPort,
      rtcpMux: mux,
    };
    return new UdpTransport(rtp, rtcp, info, options.now ?? (() => performance.now()), options.errorPolicy);
  } catch (err) {
    await Promise.all(opened.map((s) => closeSocket(s)));
    if (err instanceof KookRtpError) throw err;
    throw new KookRtpError(
      'SOCKET_ERROR',
      `could not open a UDP socket to ${options.host}:${options.port}: ${(err as Error).message}; check the address and that the local port is free`,
      { cause: err },
    );
  }
}

function checkPort(port: number, name: string, zeroOk: boolean): void {
  if (!Number.isInteger(port) || port < (zeroOk ? 0 : 1) || port > 65535) {
    throw new KookRtpError('INVALID_ARGUMENT', `${name} must be an integer in [${zeroOk ? 0 : 1}, 65535], found ${port}`);
  }
}

async function resolve(host: string): Promise<string> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) return bare;
  try {
    return (await lookup(bare)).address;
  } catch (err) {
    throw new KookRtpError('SOCKET_ERROR', `could not resolve host ${host}: ${(err as Error).message}`, { cause: err });
  }
}

function createSocket(family: 'udp4' | 'udp6', opened: dgram.Socket[]): dgram.Socket {
  const s = dgram.createSocket({ type: family, ipv6Only: family === 'udp6' });
  // A listener from the first moment: an 'error' without one would crash the process.
  s.on('error', () => {});
  opened.push(s);
  return s;
}

function bind(s: dgram.Socket, port: number, address: string | undefined): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const onError = (err: Error): void => reject(err);
    s.once('error', onError);
    const opts: dgram.BindOptions = address === undefined ? { port, exclusive: true } : { port, address, exclusive: true };
    s.bind(opts, () => {
      s.off('error', onError);
      resolvePromise();
    });
  });
}

function connect(s: dgram.Socket, port: number, address: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    s.connect(port, address, (err?: Error) => (err ? reject(err) : resolvePromise()));
  });
}

function closeSocket(s: dgram.Socket): Promise<void> {
  return new Promise((resolvePromise) => {
    try {
      s.close(() => resolvePromise());
    } catch {
      resolvePromise(); // already closed
    }
  });
}
