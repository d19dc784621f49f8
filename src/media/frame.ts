/**
 * The unit that flows from the media pipeline into the engine: one Opus packet and its duration.
 */

/** One Opus packet ready to be put into RTP, with its duration in 48 kHz samples (960 for 20 ms). */
export interface OpusFrame {
  /** The Opus packet (RFC 6716), exactly as it goes into the RTP payload (RFC 7587). */
  readonly data: Uint8Array;
  /** Duration of the packet in samples at 48 kHz: the RTP timestamp advances by this much after it. */
  readonly samples: number;
}
