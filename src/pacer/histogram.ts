/**
 * Fixed-bucket histogram of send lateness (actual minus scheduled send time), in ms.
 *
 * Recording is a couple of arithmetic operations and one array increment: no per-packet allocation.
 */

/** Width of a fine bucket: 0.02 ms, from 0 to {@link FINE_LIMIT_MS}. */
const FINE_STEP_MS = 0.02;
/** Fine buckets cover [0, 10) ms: where a healthy pacer lives. */
const FINE_LIMIT_MS = 10;
const FINE_BUCKETS = Math.round(FINE_LIMIT_MS / FINE_STEP_MS);
/** Coarse buckets are 1 ms wide, from 10 ms to 1 s; anything later goes to the overflow bucket. */
const COARSE_STEP_MS = 1;
const COARSE_LIMIT_MS = 1000;
const COARSE_BUCKETS = Math.round((COARSE_LIMIT_MS - FINE_LIMIT_MS) / COARSE_STEP_MS);
const BUCKETS = FINE_BUCKETS + COARSE_BUCKETS + 1;

/** A summary of a {@link LatenessHistogram}; percentiles are bucket upper bounds (at most 0.02 ms high below 10 ms). */
export interface LatenessSummary {
  /** Number of samples. */
  readonly count: number;
  /** Median, ms. */
  readonly p50Ms: number;
  /** 99th percentile, ms. */
  readonly p99Ms: number;
  /** 99.9th percentile, ms. */
  readonly p999Ms: number;
  /** Exact maximum, ms. */
  readonly maxMs: number;
  /** Exact mean, ms. */
  readonly meanMs: number;
}

/** Fixed-bucket lateness histogram: 0.02 ms buckets below 10 ms, 1 ms buckets to 1 s, one overflow bucket. */
export class LatenessHistogram {
  readonly #buckets = new Uint32Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #max = 0;

  /**
   * Records one sample. Negative values (sent early) count as 0.
   *
   * @param ms - lateness in ms.
   */
  record(ms: number): void {
    const v = ms > 0 ? ms : 0;
    let i: number;
    if (v < FINE_LIMIT_MS) i = Math.floor(v / FINE_STEP_MS);
    else if (v < COARSE_LIMIT_MS) i = FINE_BUCKETS + Math.floor((v - FINE_LIMIT_MS) / COARSE_STEP_MS);
    else i = BUCKETS - 1;
    this.#buckets[i] = (this.#buckets[i] as number) + 1;
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
  }

  /** Number of samples recorded. */
  get count(): number {
    return this.#count;
  }

  /**
   * The value at quantile `q`, as the upper bound of the bucket holding it (the exact max for the top bucket).
   *
   * @param q - quantile in [0, 1].
   * @returns ms; 0 when empty.
   */
  quantile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.max(1, Math.ceil(q * this.#count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#buckets[i] as number;
      if (seen >= rank) return Math.min(this.#max, upperBound(i));
    }
    return this.#max;
  }

  /** Adds every sample of `other` into this histogram (for aggregating many streams). */
  merge(other: LatenessHistogram): void {
    const src = other.#buckets;
    for (let i = 0; i < BUCKETS; i++) this.#buckets[i] = (this.#buckets[i] as number) + (src[i] as number);
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** Forgets every sample. */
  reset(): void {
    this.#buckets.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#max = 0;
  }

  /** p50 / p99 / p99.9 / max / mean. */
  summary(): LatenessSummary {
    return {
      count: this.#count,
      p50Ms: this.quantile(0.5),
      p99Ms: this.quantile(0.99),
      p999Ms: this.quantile(0.999),
      maxMs: this.#max,
      meanMs: this.#count === 0 ? 0 : this.#sum / this.#count,
    };
  }
}

function upperBound(i: number): number {
  if (i < FINE_BUCKETS) return (i + 1) * FINE_STEP_MS;
  if (i < BUCKETS - 1) return FINE_LIMIT_MS + (i - FINE_BUCKETS + 1) * COARSE_STEP_MS;
  return Number.POSITIVE_INFINITY;
}
