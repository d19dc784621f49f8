/**
 * The packet transport interface the engine sends through, and the send-error policy shared by implementations.
 *
 * No sockets here: the UDP implementation is in `udp.ts`; tests drive the engine with an in-memory transport.
 */

/** Kind of packet on the wire. */
export type PacketKind = 'rtp' | 'rtcp';

/** A send that failed, as reported to {@link PacketTransportHandlers.onSendError}. */
export interface TransportSendError {
  /** Which socket/packet kind failed. */
  readonly kind: PacketKind;
  /** The system error code (`ECONNREFUSED`, `ENETUNREACH`, `EPERM`, ...) or `'UNKNOWN'`. */
  readonly code: string;
  /** The underlying error. */
  readonly error: Error;
  /** Failures in a row, this one included. */
  readonly consecutive: number;
  /** Sends are skipped for this many ms from now (0 when not backing off). */
  readonly backoffMs: number;
}

/** Callbacks a transport reports to. */
export interface PacketTransportHandlers {
  /** An RTCP compound packet arrived from the far end. `bytes` may be a view into a reused buffer: copy to keep. */
  onRtcp(bytes: Uint8Array): void;
  /** A send failed (already counted). Called for the first failure of a streak and each time backoff grows. */
  onSendError(error: TransportSendError): void;
}

/** Counters of a transport. */
export interface TransportStats {
  /** Datagrams handed to the OS. */
  readonly sent: number;
  /** Send failures (from send callbacks or ICMP errors surfacing on the socket). */
  readonly sendErrors: number;
  /** Datagrams not sent because the transport was backing off after persistent errors. */
  readonly skipped: number;
  /** RTCP packets received. */
  readonly rtcpReceived: number;
  /** RTP (or unclassifiable) packets received and ignored. */
  readonly otherReceived: number;
  /** The last error code seen, if any. */
  readonly lastErrorCode: string | undefined;
}

/** Where packets go out from and to. */
export interface TransportInfo {
  /** `'udp4'` or `'udp6'`. */
  readonly family: 'udp4' | 'udp6';
  /** Local RTP address and port. */
  readonly localAddress: string;
  readonly localPort: number;
  /** Local RTCP port (equal to `localPort` when muxed). */
  readonly rtcpLocalPort: number;
  /** Remote address, RTP port and RTCP port (equal when muxed). */
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly remoteRtcpPort: number;
  /** Whether RTP and RTCP share one socket (RFC 5761). */
  readonly rtcpMux: boolean;
}

/** What the engine sends through. Implementations never throw from send methods. */
export interface PacketTransport {
  /** Addresses in use. */
  readonly info: TransportInfo;
  /**
   * Sends one RTP datagram. The transport may keep a reference to `bytes` until sent: do not reuse it.
   *
   * @returns false when skipped (backing off or closed).
   */
  sendRtp(bytes: Uint8Array): boolean;
  /** Sends one RTCP compound datagram; same contract as {@link PacketTransport.sendRtp}. */
  sendRtcp(bytes: Uint8Array): boolean;
  /** Installs the receive and error callbacks (replacing earlier ones). */
  setHandlers(handlers: PacketTransportHandlers): void;
  /** Counters. */
  stats(): TransportStats;
  /** Closes the socket(s); idempotent; never rejects. */
  close(): Promise<void>;
}

/** Options of {@link SendErrorPolicy}. */
export interface SendErrorPolicyOptions {
  /** Failures in one streak before sends are skipped. Default 5 (a single ICMP error is common and harmless). */
  threshold?: number;
  /** First backoff, ms. Default 100. */
  initialBackoffMs?: number;
  /** Backoff cap, ms. Default 2000 (the far end is probed at least every 2 s). */
  maxBackoffMs?: number;
  /** A streak ends after this many ms without a failure (counted from the end of any backoff). Default 1000. */
  quietMs?: number;
}

/**
 * What "retry" means for real-time datagrams: a failed datagram is never re-sent (it would arrive late and be
 * useless); the next packets keep going out at their normal time. Only after `threshold` failures in one streak are
 * sends skipped for a backoff period (doubling up to `maxBackoffMs`); after it the next packet is the probe.
 * A streak ends after `quietMs` without failures. Sequence numbers keep advancing while skipping, so the far end
 * sees loss, not a time warp.
 *
 * @remarks A successful `sendmsg` proves nothing on UDP: an ICMP port-unreachable for it surfaces later as an
 *   `ECONNREFUSED` on the socket. So streaks end by time, not by a successful send.
 */
export class SendErrorPolicy {
  readonly #threshold: number;
  readonly #initial: number;
  readonly #max: number;
  readonly #quiet: number;
  #consecutive = 0;
  #backoff = 0;
  #until = Number.NEGATIVE_INFINITY;
  #last = Number.NEGATIVE_INFINITY;

  /** @param options - see {@link SendErrorPolicyOptions}. */
  constructor(options: SendErrorPolicyOptions = {}) {
    this.#threshold = Math.max(1, options.threshold ?? 5);
    this.#initial = Math.max(1, options.initialBackoffMs ?? 100);
    this.#max = Math.max(this.#initial, options.maxBackoffMs ?? 2000);
    this.#quiet = Math.max(0, options.quietMs ?? 1000);
  }

  /** Whether a send at `now` should be skipped. */
  shouldSkip(now: number): boolean {
    return now < this.#until;
  }

  /** Failures in the current streak. */
  get consecutive(): number {
    return this.#consecutive;
  }

  /**
   * A send failed at `now`.
   *
   * @returns whether to report it (first failure of a streak, or backoff started/grew), and the backoff in ms.
   */
  failure(now: number): { report: boolean; backoffMs: number } {
    if (now - Math.max(this.#last, this.#until) > this.#quiet) {
      this.#consecutive = 0;
      this.#backoff = 0;
      this.#until = Number.NEGATIVE_INFINITY;
    }
    this.#last = now;
    this.#consecutive++;
    if (this.#consecutive < this.#threshold) return { report: this.#consecutive === 1, backoffMs: 0 };
    // Failures reported while backing off came from packets already in flight: don't grow twice.
    if (now < this.#until) return { report: false, backoffMs: this.#until - now };
    this.#backoff = this.#backoff === 0 ? this.#initial : Math.min(this.#max, this.#backoff * 2);
    this.#until = now + this.#backoff;
    return { report: true, backoffMs: this.#backoff };
  }
}
