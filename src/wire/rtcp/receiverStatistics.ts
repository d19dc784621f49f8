/**
 * Receiver-side statistics of one RTP source, as RFC 3550 appendix A computes them: source validation and sequence
 * extension (A.1), loss (A.3) and interarrival jitter (A.8), ending in a {@link ReportBlock}.
 *
 * Pure: no clock and no I/O. The caller passes each packet's arrival time, so tests can replay hours of stream.
 *
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.1 | RFC 3550 appendix A.1}
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.3 | RFC 3550 appendix A.3}
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.8 | RFC 3550 appendix A.8}
 */
import { KookRtpError } from '../../errors.js';
import { checkInteger, checkUint32 } from './checks.js';
import { MAX_CUMULATIVE_LOST, MIN_CUMULATIVE_LOST, type ReportBlock } from './reportBlock.js';

const RTP_SEQ_MOD = 0x10000;

/** Options of {@link ReceiverStatistics}; the defaults are those of RFC 3550 A.1 and Opus over RTP. */
export interface ReceiverStatisticsOptions {
  /** RTP clock rate in Hz, used to turn arrival times into timestamp units (default 48000, RFC 7587). */
  readonly clockRate?: number;
  /** Sequential packets needed before a new source (or a restarted one) counts as valid (default 2). */
  readonly minSequential?: number;
  /** Largest forward sequence gap still treated as loss rather than a restart (default 3000). */
  readonly maxDropout?: number;
  /** Largest backward sequence step still treated as reordering rather than a restart (default 100). */
  readonly maxMisorder?: number;
}

/**
 * Tracks one RTP source the way a receiver must to fill RTCP reception reports.
 *
 * @remarks
 * - `receive` implements A.1's `update_seq` literally: a new source is on probation until `minSequential`
 *   consecutive packets arrive (the first of them returns false and is not counted); a jump of `maxDropout` or more
 *   returns false unless the next packet follows it, in which case the source is assumed restarted and every
 *   counter starts over from that packet.
 * - As in A.1, duplicates and late packets count as received (RFC 3550 §6.4.1), so `cumulativeLost` can go
 *   negative; `duplicates` counts them separately and they do not feed the jitter estimate. Duplicates are
 *   recognised within the last `max(128, maxMisorder + 1)` sequence numbers.
 * - Jitter follows A.8 in floating point from timestamp and arrival differences, so RTP timestamp wrap-around and
 *   large absolute arrival times do not disturb it; the estimate restarts after a resynchronisation.
 *
 * @example
 * ```ts
 * const stats = new ReceiverStatistics();
 * socket.on('message', (m) => { const p = decodeRtp(m); stats.receive(p.sequenceNumber, p.timestamp, Date.now()); });
 * const block = stats.reportBlock(senderSsrc, lsr, dlsr); // once per RTCP interval
 * ```
 */
export class ReceiverStatistics {
  readonly #clockRate: number;
  readonly #minSequential: number;
  readonly #maxDropout: number;
  readonly #maxMisorder: number;

  #started = false;
  #validated = false;
  #probation = 0;
  #maxSeq = 0;
  #baseSeq = 0;
  #badSeq = RTP_SEQ_MOD + 1;
  /** Sequence cycles seen, shifted: a multiple of 65536. */
  #cycles = 0;
  #received = 0;
  #receivedPrior = 0;
  #expectedPrior = 0;
  #duplicates = 0;

  #jitter = 0;
  #lastArrivalMs: number | undefined;
  #lastTimestamp = 0;

  /** Extended sequence numbers recently seen, indexed by extended number modulo the ring size; -1 when empty. */
  readonly #seen: Float64Array;

  /**
   * @param options - clock rate and A.1 thresholds; see {@link ReceiverStatisticsOptions} for the defaults
   * @throws KookRtpError INVALID_ARGUMENT for a non-positive clock rate, thresholds out of range, or
   *   `maxDropout + maxMisorder` above 65536 (the two windows would overlap)
   */
  constructor(options: ReceiverStatisticsOptions = {}) {
    const clockRate = options.clockRate ?? 48_000;
    if (typeof clockRate !== 'number' || !Number.isFinite(clockRate) || clockRate <= 0) {
      throw new KookRtpError('INVALID_ARGUMENT', `clockRate must be a positive number of Hz, got ${String(clockRate)}`);
    }
    const minSequential = options.minSequential ?? 2;
    const maxDropout = options.maxDropout ?? 3000;
    const maxMisorder = options.maxMisorder ?? 100;
    checkInteger(minSequential, 1, 0xffff, 'minSequential');
    checkInteger(maxDropout, 1, 0xffff, 'maxDropout');
    checkInteger(maxMisorder, 0, 0xffff, 'maxMisorder');
    if (maxDropout + maxMisorder > RTP_SEQ_MOD) {
      throw new KookRtpError(
        'INVALID_ARGUMENT',
        `maxDropout (${maxDropout}) + maxMisorder (${maxMisorder}) must not exceed 65536`,
      );
    }
    this.#clockRate = clockRate;
    this.#minSequential = minSequential;
    this.#maxDropout = maxDropout;
    this.#maxMisorder = maxMisorder;
    let ring = 128;
    while (ring < maxMisorder + 1) ring *= 2;
    this.#seen = new Float64Array(ring).fill(-1);
  }

  /**
   * Feeds one arriving RTP packet.
   *
   * @param sequenceNumber - its 16-bit sequence number
   * @param rtpTimestamp - its 32-bit RTP timestamp
   * @param arrivalTimeMs - when it arrived, in milliseconds on any monotonic clock
   * @returns false when the packet is not (yet) valid per A.1 (probation, or a large jump not yet confirmed);
   *   true otherwise, duplicates included
   * @throws KookRtpError INVALID_ARGUMENT for a sequence number outside 0–65535, a timestamp outside uint32, or a
   *   non-finite arrival time
   * @see {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.1 | RFC 3550 appendix A.1}
   */
  receive(sequenceNumber: number, rtpTimestamp: number, arrivalTimeMs: number): boolean {
    checkInteger(sequenceNumber, 0, 0xffff, 'sequenceNumber');
    checkUint32(rtpTimestamp, 'rtpTimestamp');
    if (typeof arrivalTimeMs !== 'number' || !Number.isFinite(arrivalTimeMs)) {
      throw new KookRtpError('INVALID_ARGUMENT', `arrivalTimeMs must be a finite number, got ${String(arrivalTimeMs)}`);
    }
    if (!this.#started) {
      this.#started = true;
      this.#initSequence(sequenceNumber);
      this.#maxSeq = (sequenceNumber - 1) & 0xffff;
      this.#probation = this.#minSequential;
    }
    if (!this.#updateSequence(sequenceNumber)) return false;

    const delta = (sequenceNumber - this.#maxSeq) & 0xffff;
    const extended = this.#cycles + this.#maxSeq + (delta >= 0x8000 ? delta - RTP_SEQ_MOD : delta);
    const slot = extended % this.#seen.length;
    if (this.#seen[slot] === extended) {
      this.#duplicates++;
      return true;
    }
    this.#seen[slot] = extended;
    this.#updateJitter(rtpTimestamp, arrivalTimeMs);
    return true;
  }

  /** A.1 `init_seq`: also the restart point after a confirmed jump. */
  #initSequence(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = RTP_SEQ_MOD + 1; // so seq === badSeq is false
    this.#cycles = 0;
    this.#received = 0;
    this.#receivedPrior = 0;
    this.#expectedPrior = 0;
    this.#seen.fill(-1);
    this.#lastArrivalMs = undefined;
  }

  /** A.1 `update_seq`, with the probation test done modulo 2^16 (the C original misses 65535 -> 0). */
  #updateSequence(seq: number): boolean {
    const udelta = (seq - this.#maxSeq) & 0xffff;
    if (this.#probation > 0) {
      if (seq === ((this.#maxSeq + 1) & 0xffff)) {
        this.#probation--;
        this.#maxSeq = seq;
        if (this.#probation === 0) {
          this.#initSequence(seq);
          this.#validated = true;
          this.#received++;
          return true;
        }
      } else {
        this.#probation = this.#minSequential - 1;
        this.#maxSeq = seq;
      }
      return false;
    }
    if (udelta < this.#maxDropout) {
      if (seq < this.#maxSeq) this.#cycles += RTP_SEQ_MOD; // wrapped
      this.#maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - this.#maxMisorder) {
      if (seq !== this.#badSeq) {
        this.#badSeq = (seq + 1) & 0xffff;
        return false;
      }
      // Two sequential packets after a large jump: the sender restarted without telling us.
      this.#initSequence(seq);
    }
    // else: duplicate or reordered within maxMisorder
    this.#received++;
    return true;
  }

  /** A.8: J += (|D| - J) / 16, D from this packet and the previous one in arrival order. */
  #updateJitter(timestamp: number, arrivalMs: number): void {
    if (this.#lastArrivalMs !== undefined) {
      const arrivalUnits = ((arrivalMs - this.#lastArrivalMs) * this.#clockRate) / 1000;
      const timestampUnits = (timestamp - this.#lastTimestamp) | 0; // signed 32-bit: survives wrap-around
      const d = Math.abs(arrivalUnits - timestampUnits);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#lastArrivalMs = arrivalMs;
    this.#lastTimestamp = timestamp;
  }

  /** Whether the source has passed probation (A.1) at least once; before that every counter is 0. */
  get validated(): boolean {
    return this.#validated;
  }

  /** Packets counted as received since the source was validated (or last restarted), duplicates included. */
  get received(): number {
    return this.#received;
  }

  /** Packets expected since validation: extended highest sequence minus the base, plus one (A.3). */
  get expected(): number {
    return this.#validated ? this.#cycles + this.#maxSeq - this.#baseSeq + 1 : 0;
  }

  /** Expected minus received, clamped to the signed 24-bit range of the report field (A.3). */
  get cumulativeLost(): number {
    return Math.min(MAX_CUMULATIVE_LOST, Math.max(MIN_CUMULATIVE_LOST, this.expected - this.#received));
  }

  /** Highest sequence number received, with the cycle count in the top 16 bits, modulo 2^32 (A.1). */
  get extendedHighestSequence(): number {
    return this.#validated ? (this.#cycles + this.#maxSeq) >>> 0 : 0;
  }

  /** Interarrival jitter estimate in RTP timestamp units (A.8), unrounded. */
  get jitter(): number {
    return this.#jitter;
  }

  /** {@link jitter} in milliseconds. */
  get jitterMs(): number {
    return (this.#jitter * 1000) / this.#clockRate;
  }

  /** Packets that arrived again after their sequence number had already been received. */
  get duplicates(): number {
    return this.#duplicates;
  }

  /**
   * Builds the reception report block for the source and starts a new reporting interval (A.3 fraction lost is
   * measured since the previous call).
   *
   * @param ssrc - SSRC of the reported source
   * @param lastSenderReport - middle 32 bits of the NTP timestamp of its last SR (default 0: none received)
   * @param delaySinceLastSenderReport - time since that SR in 1/65536 s (default 0)
   * @returns the block; all counters 0 before the source is validated; fraction lost 0 when duplicates exceed
   *   losses in the interval
   * @throws KookRtpError INVALID_ARGUMENT when an argument is not a uint32
   * @see {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.3 | RFC 3550 appendix A.3}
   */
  reportBlock(ssrc: number, lastSenderReport = 0, delaySinceLastSenderReport = 0): ReportBlock {
    checkUint32(ssrc, 'ssrc');
    checkUint32(lastSenderReport, 'lastSenderReport');
    checkUint32(delaySinceLastSenderReport, 'delaySinceLastSenderReport');
    const expected = this.expected;
    const expectedInterval = expected - this.#expectedPrior;
    this.#expectedPrior = expected;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost =
      expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    return {
      ssrc,
      fractionLost,
      cumulativeLost: this.cumulativeLost,
      highestSequence: this.extendedHighestSequence,
      jitter: Math.min(0xffffffff, Math.floor(this.#jitter)),
      lastSenderReport,
      delaySinceLastSenderReport,
    };
  }
}
