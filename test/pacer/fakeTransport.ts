/**
 * An in-memory {@link PacketTransport} for fake-clock tests: records every datagram with the clock time it was sent.
 */
import type { Clock } from '../../src/pacer/clock.js';
import type {
  PacketKind,
  PacketTransport,
  PacketTransportHandlers,
  TransportInfo,
  TransportSendError,
  TransportStats,
} from '../../src/transport/transport.js';

/** One recorded datagram. */
export interface Sent {
  readonly kind: PacketKind;
  readonly bytes: Uint8Array;
  readonly time: number;
}

/** Records datagrams; lets tests inject RTCP and send errors. */
export class FakeTransport implements PacketTransport {
  readonly info: TransportInfo = {
    family: 'udp4',
    localAddress: '127.0.0.1',
    localPort: 40000,
    rtcpLocalPort: 40000,
    remoteAddress: '127.0.0.1',
    remotePort: 5004,
    remoteRtcpPort: 5004,
    rtcpMux: true,
  };
  readonly sent: Sent[] = [];
  closed = false;
  handlers: PacketTransportHandlers | undefined;
  /** When set, only counts are kept (hours-long tests). */
  keep: (s: Sent) => boolean = () => true;
  rtpCount = 0;
  constructor(private readonly clock: Clock) {}

  sendRtp(bytes: Uint8Array): boolean {
    return this.#push('rtp', bytes);
  }
  sendRtcp(bytes: Uint8Array): boolean {
    return this.#push('rtcp', bytes);
  }
  setHandlers(handlers: PacketTransportHandlers): void {
    this.handlers = handlers;
  }
  stats(): TransportStats {
    return { sent: this.sent.length, sendErrors: 0, skipped: 0, rtcpReceived: 0, otherReceived: 0, lastErrorCode: undefined };
  }
  async close(): Promise<void> {
    this.closed = true;
  }
  /** Simulates RTCP arriving from the far end. */
  deliverRtcp(bytes: Uint8Array): void {
    this.handlers?.onRtcp(bytes);
  }
  /** Simulates a send error report. */
  fail(e: TransportSendError): void {
    this.handlers?.onSendError(e);
  }
  rtp(): Sent[] {
    return this.sent.filter((s) => s.kind === 'rtp');
  }
  rtcp(): Sent[] {
    return this.sent.filter((s) => s.kind === 'rtcp');
  }

  #push(kind: PacketKind, bytes: Uint8Array): boolean {
    if (this.closed) return false;
    if (kind === 'rtp') this.rtpCount++;
    const s = { kind, bytes, time: this.clock.now() };
    if (this.keep(s)) this.sent.push(s);
    return true;
  }
}
