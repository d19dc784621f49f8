/**
 * Pure statistics for the side-by-side benchmark (bench/compare.ts): sliding-window bitrate, per-second bins,
 * percentiles, RFC 3550 interarrival jitter and sequence accounting. No I/O, no clocks: every function takes
 * plain numbers so the tests can feed known inputs and check known outputs.
 *
 * Times are plain numbers in one unit chosen by the caller (the receiver uses nanoseconds relative to its first
 * datagram, which keeps them well inside the 2^53 exact range).
 */

/** Bytes of IPv4 (20) + UDP (8) headers added to every datagram on the wire (no IP options). */
export const IPV4_UDP_OVERHEAD = 28;

/** The largest sum over any window, and where that window ends. */
export interface WindowMax {
  /** Largest sum of `values` over a window `(end - width, end]`; 0 when there are no samples. */
  readonly max: number;
  /** The time of the sample that closes the worst window (`NaN` when there are no samples). */
  readonly end: number;
}

/**
 * The largest sum of `values` over any half-open window `(t - width, t]` of length `width`.
 *
 * @param times - sample times, ascending (equal times allowed).
 * @param values - one value per time (bytes, for a bitrate).
 * @param width - window length in the unit of `times`.
 * @returns the worst window: its sum and the time that closes it.
 * @throws RangeError when the arrays differ in length, `width` is not positive or `times` is not ascending.
 * @remarks Only windows that end on a sample need to be checked: moving the end of a window forward to the next
 * sample can only add samples, never drop one. Two pointers make it O(n).
 */
export function maxWindowSum(times: readonly number[], values: readonly number[], width: number): WindowMax {
  if (times.length !== values.length) throw new RangeError(`times (${times.length}) and values (${values.length}) differ in length`);
  if (!(width > 0)) throw new RangeError(`window width must be positive, got ${width}`);
  let max = 0;
  let end = Number.NaN;
  let sum = 0;
  let first = 0;
  for (let i = 0; i < times.length; i++) {
    const t = times[i]!;
    if (i > 0 && t < times[i - 1]!) throw new RangeError(`times must be ascending: times[${i}] = ${t} < ${times[i - 1]!}`);
    sum += values[i]!;
    while (times[first]! <= t - width) {
      sum -= values[first]!;
      first++;
    }
    if (sum > max || Number.isNaN(end)) {
      max = sum;
      end = t;
    }
  }
  return { max, end };
}

/**
 * Sums `values` into consecutive (tumbling) bins of `width` starting at `start`: bin k covers
 * `[start + k*width, start + (k+1)*width)`.
 *
 * @param includePartial - keep the last bin even when the samples stop before it is complete (default false:
 *   a partial last second would read as a bitrate dip that is not there).
 * @returns one sum per bin; empty when there are no samples.
 * @throws RangeError on a non-positive width or a sample before `start`.
 */
export function binSums(
  times: readonly number[],
  values: readonly number[],
  width: number,
  start: number,
  includePartial = false,
): number[] {
  if (times.length !== values.length) throw new RangeError(`times (${times.length}) and values (${values.length}) differ in length`);
  if (!(width > 0)) throw new RangeError(`bin width must be positive, got ${width}`);
  if (times.length === 0) return [];
  const last = times[times.length - 1]!;
  const span = last - start;
  // The bin holding the last sample is complete only if the last sample sits exactly on its end, which a
  // half-open bin never does; so without includePartial we keep the bins strictly before it.
  const binsTotal = Math.floor(span / width) + 1;
  const bins = new Array<number>(binsTotal).fill(0);
  for (let i = 0; i < times.length; i++) {
    const offset = times[i]! - start;
    if (offset < 0) throw new RangeError(`sample at ${times[i]!} is before start ${start}`);
    const k = Math.floor(offset / width);
    bins[k] = bins[k]! + values[i]!;
  }
  return includePartial ? bins : bins.slice(0, binsTotal - 1);
}

/**
 * The p-th percentile by the nearest-rank method (the smallest value with at least p% of the values at or
 * below it): p50 of [1,2,3,4] is 2, p99 of 100 values is the 99th smallest, p100 is the maximum.
 *
 * @param values - any order; not modified.
 * @param p - percent in [0, 100]; p = 0 gives the minimum.
 * @returns the percentile, or `NaN` for no values.
 * @throws RangeError when p is outside [0, 100].
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be in [0, 100], got ${p}`);
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

/** Differences between consecutive times (n - 1 of them). */
export function gaps(times: readonly number[]): number[] {
  const out: number[] = [];
  for (let i = 1; i < times.length; i++) out.push(times[i]! - times[i - 1]!);
  return out;
}

/**
 * The difference `a - b` of two 32-bit RTP timestamps, as a signed number in (-2^31, 2^31], so that a wrap
 * from 0xffffffff to 0 counts as +1.
 */
export function timestampDelta(a: number, b: number): number {
  const d = (a - b) >>> 0;
  return d > 0x8000_0000 ? d - 0x1_0000_0000 : d;
}

/**
 * RFC 3550 interarrival jitter (appendix A.8), run over a whole stream:
 * `D(i-1, i) = (R_i - R_{i-1}) - (S_i - S_{i-1})`, `J += (|D| - J) / 16`, with R the arrival time and S the RTP
 * timestamp, both in timestamp units.
 *
 * @param arrivals - arrival times in seconds (any origin), in arrival order.
 * @param rtpTimestamps - the packets' RTP timestamps, in the same order (32-bit wrap handled).
 * @param clockRate - RTP clock rate in Hz (48000 for Opus).
 * @returns the final jitter estimate in timestamp units and in milliseconds (0 for fewer than two packets).
 * @remarks A.8 keeps J as a float here rather than the scaled integer of the reference code; the value is the same
 * up to rounding.
 * @see {@link https://www.rfc-editor.org/rfc/rfc3550#appendix-A.8 | RFC 3550 appendix A.8}
 */
export function interarrivalJitter(
  arrivals: readonly number[],
  rtpTimestamps: readonly number[],
  clockRate: number,
): { readonly units: number; readonly ms: number; readonly maxMs: number } {
  if (arrivals.length !== rtpTimestamps.length) {
    throw new RangeError(`arrivals (${arrivals.length}) and timestamps (${rtpTimestamps.length}) differ in length`);
  }
  let j = 0;
  let maxJ = 0;
  for (let i = 1; i < arrivals.length; i++) {
    const transitDelta = (arrivals[i]! - arrivals[i - 1]!) * clockRate - timestampDelta(rtpTimestamps[i]!, rtpTimestamps[i - 1]!);
    j += (Math.abs(transitDelta) - j) / 16;
    if (j > maxJ) maxJ = j;
  }
  return { units: j, ms: (j / clockRate) * 1000, maxMs: (maxJ / clockRate) * 1000 };
}

/** What arrived, against what the sequence numbers say was sent. */
export interface SequenceStats {
  /** Datagrams counted, duplicates included. */
  readonly received: number;
  /** Highest extended sequence number - lowest + 1 (RFC 3550 A.3 "expected"). */
  readonly expected: number;
  /** expected - distinct sequence numbers received; never negative. */
  readonly lost: number;
  /** Sequence numbers seen more than once. */
  readonly duplicates: number;
  /** Packets that arrived after a higher sequence number (late but not duplicate). */
  readonly reordered: number;
  /** Forward jumps of more than one (each jump counts once, whatever its size). */
  readonly gaps: number;
  /** 16-bit wraps of the sequence number. */
  readonly wraps: number;
}

/**
 * Accounts a stream of 16-bit RTP sequence numbers in arrival order: extends them across wraps (each number is
 * placed at the signed 16-bit distance from the highest seen so far), then counts loss, duplicates, reordering
 * and gaps.
 */
export function sequenceStats(seqs: readonly number[]): SequenceStats {
  if (seqs.length === 0) return { received: 0, expected: 0, lost: 0, duplicates: 0, reordered: 0, gaps: 0, wraps: 0 };
  const seen = new Set<number>();
  let maxExt = seqs[0]! & 0xffff;
  let minExt = maxExt;
  seen.add(maxExt);
  let duplicates = 0;
  let reordered = 0;
  let gapCount = 0;
  for (let i = 1; i < seqs.length; i++) {
    const seq = seqs[i]! & 0xffff;
    let diff = (seq - (maxExt & 0xffff)) & 0xffff;
    if (diff >= 0x8000) diff -= 0x1_0000;
    const ext = maxExt + diff;
    if (seen.has(ext)) {
      duplicates++;
      continue;
    }
    seen.add(ext);
    if (diff > 0) {
      if (diff > 1) gapCount++;
      maxExt = ext;
    } else {
      reordered++;
      if (ext < minExt) minExt = ext;
    }
  }
  const expected = maxExt - minExt + 1;
  const wraps = Math.floor(maxExt / 0x1_0000) - Math.floor(minExt / 0x1_0000);
  return {
    received: seqs.length,
    expected,
    lost: Math.max(0, expected - seen.size),
    duplicates,
    reordered,
    gaps: gapCount,
    wraps,
  };
}

/**
 * `candidate / baseline`, or `NaN` when it means nothing (baseline 0 or either side missing). 0 / 0 is 1:
 * two pushers that both lost nothing are equal.
 */
export function ratio(candidate: number | undefined, baseline: number | undefined): number {
  if (candidate === undefined || baseline === undefined || !Number.isFinite(candidate) || !Number.isFinite(baseline)) {
    return Number.NaN;
  }
  if (baseline === 0) return candidate === 0 ? 1 : Number.NaN;
  return candidate / baseline;
}

/** The median of a list (mean of the two middle values for an even count); `NaN` for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
