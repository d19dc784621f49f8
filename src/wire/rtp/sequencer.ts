/**
 * RTP sequence number and timestamp arithmetic: 16-bit and 32-bit modular counters, the sender's sequencer and the
 * receiver's rollover-counting extender.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#section-5.1 | RFC 3550 §5.1},
 *   {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.1 | RFC 3550 Appendix A.1}
 */
import { randomInt } from 'node:crypto';
import { KookRtpError } from '../../errors.js';

const SEQ_MOD = 0x10000;

/**
 * Adds to a 16-bit sequence number with wrap.
 *
 * @param seq - a sequence number.
 * @param n - any integer step (may be negative).
 * @returns `(seq + n) & 0xffff`.
 */
export function seqAdd(seq: number, n: number): number {
  return (seq + n) & 0xffff;
}

/**
 * Signed shortest distance between two 16-bit sequence numbers.
 *
 * @param a - a sequence number.
 * @param b - a sequence number.
 * @returns `a - b` in [-32768, 32767]; positive when `a` is newer than `b`.
 */
export function seqDiff(a: number, b: number): number {
  return (((a - b) & 0xffff) << 16) >> 16;
}

/**
 * Adds to a 32-bit RTP timestamp with wrap.
 *
 * @param ts - a timestamp.
 * @param n - any integer step (may be negative).
 * @returns `(ts + n) >>> 0`.
 */
export function tsAdd(ts: number, n: number): number {
  return (ts + n) >>> 0;
}

/**
 * Signed distance between two 32-bit RTP timestamps.
 *
 * @param a - a timestamp.
 * @param b - a timestamp.
 * @returns `a - b` as a signed 32-bit integer; positive when `a` is later than `b`.
 */
export function tsDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * A crypto-random 32-bit SSRC (RFC 3550 §8.1 asks for a random identifier).
 *
 * @returns an integer in [0, 2^32).
 */
export function randomSsrc(): number {
  return randomInt(0, 0x100000000);
}

function checkUint(name: string, value: number, max: number): void {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new KookRtpError('INVALID_ARGUMENT', `${name} must be an integer in [0, ${max}], found ${value}`);
  }
}

/**
 * Sender side: the next sequence number and timestamp of one RTP stream.
 *
 * @remarks RFC 3550 §5.1 asks for random initial values so that known-plaintext attacks on encryption are harder;
 *   {@link RtpSequencer.random} draws them from `node:crypto`. {@link RtpSequencer.fixed} is for tests and replays.
 */
export class RtpSequencer {
  #sequenceNumber: number;
  #timestamp: number;
  #rollovers = 0;

  private constructor(sequenceNumber: number, timestamp: number) {
    this.#sequenceNumber = sequenceNumber;
    this.#timestamp = timestamp;
  }

  /**
   * A sequencer starting at a crypto-random sequence number and timestamp.
   *
   * @returns a new sequencer.
   */
  static random(): RtpSequencer {
    return new RtpSequencer(randomInt(0, SEQ_MOD), randomInt(0, 0x100000000));
  }

  /**
   * A sequencer starting at the given values.
   *
   * @param sequenceNumber - first sequence number, 0-65535.
   * @param timestamp - first timestamp, 32-bit unsigned.
   * @returns a new sequencer.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` when a value is out of range.
   */
  static fixed(sequenceNumber: number, timestamp: number): RtpSequencer {
    checkUint('sequenceNumber', sequenceNumber, 0xffff);
    checkUint('timestamp', timestamp, 0xffffffff);
    return new RtpSequencer(sequenceNumber, timestamp);
  }

  /** The NEXT sequence number to send. */
  get sequenceNumber(): number {
    return this.#sequenceNumber;
  }

  /** The NEXT timestamp to use. */
  get timestamp(): number {
    return this.#timestamp;
  }

  /** How many times the 16-bit sequence number has wrapped from 65535 to 0. */
  get rollovers(): number {
    return this.#rollovers;
  }

  /** `rollovers * 65536 + sequenceNumber`: the extended form of the next sequence number. */
  get extendedSequenceNumber(): number {
    return this.#rollovers * SEQ_MOD + this.#sequenceNumber;
  }

  /**
   * Takes the next sequence number and advances, counting a rollover at the 16-bit wrap.
   *
   * @returns the sequence number to put in the packet being sent.
   */
  takeSequenceNumber(): number {
    const seq = this.#sequenceNumber;
    this.#sequenceNumber = (seq + 1) & 0xffff;
    if (this.#sequenceNumber === 0) this.#rollovers++;
    return seq;
  }

  /**
   * Advances the timestamp by the duration of the packet just sent.
   *
   * @param samples - samples at the RTP clock rate (960 for 20 ms of Opus); a non-negative integer.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` when `samples` is negative or not an integer.
   */
  advanceTimestamp(samples: number): void {
    if (!Number.isSafeInteger(samples) || samples < 0) {
      throw new KookRtpError('INVALID_ARGUMENT', `samples must be a non-negative integer, found ${samples}`);
    }
    this.#timestamp = (this.#timestamp + samples) >>> 0;
  }
}

/**
 * Receiver side: extends 16-bit sequence numbers to a rollover-counted number, tolerating reordering.
 *
 * @remarks Each number is placed at the shortest distance from the highest seen so far (RFC 3550 Appendix A.1), so
 *   packets reordered by fewer than 32768 positions land on the right cycle. The first number maps to itself; a
 *   late packet sent before it can therefore map below 0 (down to -32768). Source restarts and probation are the
 *   caller's business (receiver statistics), not this pure unwrapping.
 */
export class SequenceExtender {
  #highest: number | undefined;

  /**
   * Extends one received sequence number.
   *
   * @param seq16 - the 16-bit sequence number from the packet.
   * @returns the extended sequence number.
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` when `seq16` is not in [0, 65535].
   */
  extend(seq16: number): number {
    checkUint('seq16', seq16, 0xffff);
    const highest = this.#highest;
    if (highest === undefined) {
      this.#highest = seq16;
      return seq16;
    }
    const extended = highest + seqDiff(seq16, highest & 0xffff);
    if (extended > highest) this.#highest = extended;
    return extended;
  }

  /** The highest extended sequence number seen, or undefined before the first. */
  get highest(): number | undefined {
    return this.#highest;
  }

  /** Number of completed 16-bit cycles at the highest number seen (the RR "cycles" count, RFC 3550 §6.4.1). */
  get cycles(): number {
    return this.#highest === undefined ? 0 : Math.floor(this.#highest / SEQ_MOD);
  }
}
