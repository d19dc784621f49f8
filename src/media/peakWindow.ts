/**
 * The fullest 1 s window of RTP bytes an Opus input would put on the wire if its packets went out unchanged
 * (passthrough): what the bitrate guard will measure, computed from the packets before anything is sent.
 *
 * Each packet counts its Opus payload plus a 12-byte RTP header, at the time the pacer sends it: the sum of the
 * earlier packets' durations (RTP timestamps advance by each packet's samples). The window is the guard's own
 * (`SlidingWindowMeter`, `[t - 1000 ms, t]`), so "the peak fits the guard's limit" means the guard never has to
 * hold a packet back.
 */
import { SlidingWindowMeter } from '../pacer/tokenBucket.js';
import { opusPacketSamples } from '../wire/opus/toc.js';
import { RTP_HEADER_BYTES } from './opus/encoder.js';

/** Window length the guard measures, in ms. */
export const PEAK_WINDOW_MS = 1000;

/** The peak 1 s window of RTP bytes of an Opus input's packets. */
export interface PeakRtpWindow {
  /** RTP bytes (payload + 12-byte header per packet) in the fullest 1 s window. */
  readonly bytes: number;
  /** The same in bit/s (`bytes × 8`: the window is one second). */
  readonly bitrate: number;
  /** Where that window ends, in seconds from the start of the audio. */
  readonly atSec: number;
  /** Packets measured and the seconds of audio they hold. */
  readonly packets: number;
  readonly measuredSec: number;
  /**
   * True when every packet of the input was measured (files and buffers); false when only the packets of its first
   * part could be (a stream or a download is read once, by the player): the peak may then lie later.
   */
  readonly whole: boolean;
}

/** Feeds Opus packets in order; {@link PeakWindowScan.result} says their peak 1 s window of RTP bytes. */
export class PeakWindowScan {
  readonly #meter = new SlidingWindowMeter(PEAK_WINDOW_MS, 64);
  #samples = 0;
  #packets = 0;
  #peak = 0;
  #peakAt = 0;

  /** Counts one packet, sent after all those pushed before it. A packet without a valid TOC is not counted. */
  push(packet: Uint8Array): void {
    let samples: number;
    try {
      samples = opusPacketSamples(packet);
    } catch {
      return; // decoding reports a broken packet; it is never sent
    }
    const t = this.#samples / 48;
    this.#meter.record(t, packet.length + RTP_HEADER_BYTES);
    if (this.#meter.max > this.#peak) {
      this.#peak = this.#meter.max;
      this.#peakAt = t;
    }
    this.#samples += samples;
    this.#packets++;
  }

  /** Packets counted so far. */
  get packets(): number {
    return this.#packets;
  }

  /** @param whole - whether every packet of the input was pushed. */
  result(whole: boolean): PeakRtpWindow {
    return {
      bytes: this.#peak,
      bitrate: (this.#peak * 8 * 1000) / PEAK_WINDOW_MS,
      atSec: Math.round(this.#peakAt) / 1000,
      packets: this.#packets,
      measuredSec: Math.round(this.#samples / 48) / 1000,
      whole,
    };
  }
}
