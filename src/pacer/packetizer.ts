/**
 * Opus frames to RTP packets for one SSRC: header writing, sequence numbers and timestamps (through an
 * {@link RtpSequencer}, so they continue across tracks), and the exact counters an RTCP SR needs.
 */

import { KookRtpError } from '../errors.js';
import { RTP_HEADER_SIZE, writeRtpHeader } from '../wire/rtp/packet.js';
import { RtpSequencer } from '../wire/rtp/sequencer.js';

/** Options of {@link RtpPacketizer}. */
export interface RtpPacketizerOptions {
  /** SSRC, 32-bit unsigned. */
  ssrc: number;
  /** Payload type, 0-127. KOOK's default is 111. */
  payloadType: number;
  /** Sequence number and timestamp source. Default: {@link RtpSequencer.random}. */
  sequencer?: RtpSequencer;
}

/** Makes RTP packets from payloads; one instance per stream, for the stream's whole life. */
export class RtpPacketizer {
  /** SSRC of every packet. */
  readonly ssrc: number;
  /** Payload type of every packet. */
  readonly payloadType: number;
  /** The sequencer (next sequence number and timestamp). */
  readonly sequencer: RtpSequencer;
  #packets = 0;
  #octets = 0;
  #lastTimestamp: number | undefined;

  /**
   * @param options - see {@link RtpPacketizerOptions}.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for an out-of-range SSRC or payload type.
   */
  constructor(options: RtpPacketizerOptions) {
    if (!Number.isInteger(options.ssrc) || options.ssrc < 0 || options.ssrc > 0xffffffff) {
      throw new KookRtpError('INVALID_ARGUMENT', `ssrc must be a 32-bit unsigned integer, found ${options.ssrc}`);
    }
    if (!Number.isInteger(options.payloadType) || options.payloadType < 0 || options.payloadType > 127) {
      throw new KookRtpError('INVALID_ARGUMENT', `payloadType must be an integer in [0, 127], found ${options.payloadType}`);
    }
    this.ssrc = options.ssrc;
    this.payloadType = options.payloadType;
    this.sequencer = options.sequencer ?? RtpSequencer.random();
  }

  /**
   * Builds the next packet (fresh buffer: transports may hold it until sent) and advances sequence and timestamp.
   *
   * @param payload - the Opus packet.
   * @param samples - its duration in RTP clock units (48 kHz samples).
   * @param marker - the M bit (first packet after a gap).
   * @returns the RTP datagram.
   */
  packetize(payload: Uint8Array, samples: number, marker: boolean): Uint8Array {
    const seq = this.sequencer.takeSequenceNumber();
    const ts = this.sequencer.timestamp;
    const out = new Uint8Array(RTP_HEADER_SIZE + payload.length);
    writeRtpHeader(out, 0, marker, this.payloadType, seq, ts, this.ssrc);
    out.set(payload, RTP_HEADER_SIZE);
    this.sequencer.advanceTimestamp(samples);
    this.#lastTimestamp = ts;
    // RFC 3550 §6.4.1: both counters wrap at 2^32.
    this.#packets = (this.#packets + 1) >>> 0;
    this.#octets = (this.#octets + payload.length) >>> 0;
    return out;
  }

  /** Advances the timestamp without sending, for real time elapsed during a pause or between tracks. */
  skip(samples: number): void {
    if (samples > 0) this.sequencer.advanceTimestamp(Math.round(samples));
  }

  /** Packets made so far, mod 2^32 (the SR sender's packet count). */
  get packetCount(): number {
    return this.#packets;
  }

  /** Payload octets so far, mod 2^32 (the SR sender's octet count). */
  get octetCount(): number {
    return this.#octets;
  }

  /** Timestamp of the last packet made, or undefined before the first. */
  get lastTimestamp(): number | undefined {
    return this.#lastTimestamp;
  }
}
