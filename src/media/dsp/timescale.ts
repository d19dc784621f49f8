/**
 * Time-stretching (WSOLA) and variable-ratio resampling: the two halves of Lavalink's `timescale` filter, for 48 kHz
 * interleaved stereo float. Internal to the filter chain; see native-notes.md for why this is our own WSOLA.
 */

/** Segment length: 40 ms (long enough for a 25 Hz period, short enough not to smear drums). */
const SEG = 1920;
/** Synthesis hop: half a segment (Hann windows at 50 % overlap sum to exactly 1). */
const HOP = SEG / 2;
/** Search tolerance either side of the nominal position: ±10 ms. */
const TOL = 480;
/** Decimation of the coarse similarity search. */
const DEC = 4;

/** The periodic Hann window of length SEG. */
const WINDOW = (() => {
  const w = new Float32Array(SEG);
  for (let i = 0; i < SEG; i++) w[i] = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / SEG);
  return w;
})();

/** A growable interleaved-stereo float FIFO with an absolute index for its first sample. */
export class StereoFifo {
  buf: Float32Array;
  /** Absolute index (in stereo samples) of buf[0]. */
  base = 0;
  /** Stereo samples stored. */
  length = 0;

  constructor(capacity = 8192) {
    this.buf = new Float32Array(capacity * 2);
  }

  /** Absolute index one past the last stored sample. */
  get end(): number {
    return this.base + this.length;
  }

  /** Makes room for `n` more samples (grows by doubling: amortised, no steady-state allocation). */
  reserve(n: number): void {
    const need = (this.length + n) * 2;
    if (need <= this.buf.length) return;
    let cap = this.buf.length;
    while (cap < need) cap *= 2;
    const grown = new Float32Array(cap);
    grown.set(this.buf.subarray(0, this.length * 2));
    this.buf = grown;
  }

  append(src: Float32Array, srcOffset: number, n: number): void {
    this.reserve(n);
    const b = this.buf;
    for (let i = 0, o = this.length * 2, k = srcOffset * 2; i < n * 2; i++) b[o + i] = src[k + i]!;
    this.length += n;
  }

  appendZeros(n: number): void {
    this.reserve(n);
    this.buf.fill(0, this.length * 2, (this.length + n) * 2);
    this.length += n;
  }

  /** Forgets everything before absolute index `abs`. */
  dropBefore(abs: number): void {
    const k = Math.min(this.length, abs - this.base);
    if (k <= 0) return;
    this.buf.copyWithin(0, k * 2, this.length * 2);
    this.length -= k;
    this.base += k;
  }

  clear(): void {
    this.base = 0;
    this.length = 0;
  }
}

/**
 * Waveform-similarity overlap-add time stretcher (Verhelst & Roelands 1993), streaming.
 *
 * @remarks
 * Output is built from 40 ms Hann-windowed input segments placed every 20 ms. Segment k is taken near
 * `k · 20 ms · tempo` of the input, shifted by up to ±10 ms to the place most similar (normalised cross-correlation,
 * coarse on a 4× decimated mono sum, then refined to the sample) to the natural continuation of segment k−1, so
 * periodic signals keep their phase and pitch. At tempo 1 it takes the natural continuation itself: exact
 * reconstruction. The first segment's rising half is not windowed, so the output starts without a fade.
 */
export class Wsola {
  /** Input consumed per output sample (speed): 2 halves the duration. */
  tempo = 1;
  private readonly input = new StereoFifo(SEG * 4);
  private readonly ola = new Float32Array(SEG * 2);
  private prev = -1;
  private nominal = 0;
  private readonly target = new Float32Array(HOP / DEC);
  private readonly dec = new Float32Array((2 * TOL + HOP) / DEC + 2);

  push(src: Float32Array, offset: number, n: number): void {
    this.input.append(src, offset, n);
  }

  pushZeros(n: number): void {
    this.input.appendZeros(n);
  }

  /** Runs every hop the buffered input allows, appending 960 samples per hop to `out`. */
  process(out: StereoFifo): void {
    const inp = this.input;
    for (;;) {
      const ha = HOP * this.tempo;
      let pos: number;
      if (this.prev < 0) {
        pos = Math.max(inp.base, Math.round(this.nominal));
        if (pos + SEG > inp.end) return;
      } else if (this.tempo === 1) {
        pos = this.prev + HOP;
        if (pos + SEG > inp.end) return;
      } else {
        const c = Math.round(this.nominal);
        if (Math.max(c + TOL, this.prev + HOP) + SEG > inp.end) return;
        pos = this.search(this.prev + HOP, Math.max(c - TOL, inp.base), c + TOL);
      }
      this.overlapAdd(pos, this.prev < 0);
      out.reserve(HOP);
      const ob = out.buf;
      for (let i = 0, o = out.length * 2; i < HOP * 2; i++) ob[o + i] = this.ola[i]!;
      out.length += HOP;
      this.ola.copyWithin(0, HOP * 2, SEG * 2);
      this.ola.fill(0, HOP * 2);
      this.nominal = this.prev < 0 || this.tempo === 1 ? pos + ha : this.nominal + ha;
      this.prev = pos;
      inp.dropBefore(Math.min(this.prev + HOP, Math.round(this.nominal) - TOL));
    }
  }

  private overlapAdd(pos: number, first: boolean): void {
    const x = this.input.buf;
    const o = (pos - this.input.base) * 2;
    const ola = this.ola;
    for (let i = 0; i < SEG; i++) {
      const w = first && i < HOP ? 1 : WINDOW[i]!;
      ola[2 * i] = ola[2 * i]! + x[o + 2 * i]! * w;
      ola[2 * i + 1] = ola[2 * i + 1]! + x[o + 2 * i + 1]! * w;
    }
  }

  /** The position in [lo, hi] whose first half-segment best matches the one starting at `want`. */
  private search(want: number, lo: number, hi: number): number {
    const x = this.input.buf;
    const base = this.input.base;
    const tgt = this.target;
    const dec = this.dec;
    const m = tgt.length;
    for (let j = 0; j < m; j++) {
      const k = (want - base + j * DEC) * 2;
      tgt[j] = x[k]! + x[k + 1]!;
    }
    const count = Math.floor((hi - lo) / DEC) + 1;
    const dn = count + m - 1;
    for (let j = 0; j < dn; j++) {
      const k = (lo - base + j * DEC) * 2;
      dec[j] = x[k]! + x[k + 1]!;
    }
    let energy = 0;
    for (let j = 0; j < m; j++) energy += dec[j]! * dec[j]!;
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < count; c++) {
      let corr = 0;
      for (let j = 0; j < m; j++) corr += tgt[j]! * dec[c + j]!;
      const score = corr / Math.sqrt(energy + 1e-9);
      if (score > bestScore) (bestScore = score), (best = c);
      if (c + 1 < count) {
        energy += dec[c + m]! * dec[c + m]! - dec[c]! * dec[c]!;
        if (energy < 0) energy = 0;
      }
    }
    // Refine to the sample around the coarse winner.
    const coarse = lo + best * DEC;
    let pos = coarse;
    bestScore = -Infinity;
    const w0 = (want - base) * 2;
    for (let p = Math.max(lo, coarse - DEC + 1); p <= Math.min(hi, coarse + DEC - 1); p++) {
      let corr = 0;
      let e = 0;
      const p0 = (p - base) * 2;
      for (let j = 0; j < HOP; j += 2) {
        const a = x[w0 + 2 * j]! + x[w0 + 2 * j + 1]!;
        const b = x[p0 + 2 * j]! + x[p0 + 2 * j + 1]!;
        corr += a * b;
        e += b * b;
      }
      const score = corr / Math.sqrt(e + 1e-9);
      if (score > bestScore) (bestScore = score), (pos = p);
    }
    return pos;
  }

  reset(): void {
    this.input.clear();
    this.ola.fill(0);
    this.prev = -1;
    this.nominal = 0;
  }
}

/** Butterworth 4th-order sections' Q values. */
const BW_Q = [0.5411961, 1.3065630] as const;

/**
 * Variable-ratio resampler: reads its input `ratio` samples per output sample (4-point Hermite interpolation), with a
 * 4th-order Butterworth anti-alias low-pass ahead of it while the ratio is above 1.
 */
export class VariableResampler {
  private ratioValue = 1;
  private readonly input = new StereoFifo(4096);
  /** Read position relative to input.base. */
  private t = 1;
  private readonly coef = new Float64Array(10);
  private readonly state = new Float64Array(16);
  private filtering = false;

  constructor() {
    this.input.appendZeros(1); // history for the first interpolation
  }

  get ratio(): number {
    return this.ratioValue;
  }

  set ratio(r: number) {
    this.ratioValue = r;
    this.filtering = r > 1.0001;
    if (!this.filtering) return;
    // Cut-off 0.45 · fs / ratio: what survives reading `ratio` times faster stays below 0.9 × Nyquist.
    const w0 = (2 * Math.PI * 0.45) / r;
    for (let s = 0; s < 2; s++) {
      const alpha = Math.sin(w0) / (2 * BW_Q[s]!);
      const cw = Math.cos(w0);
      const a0 = 1 + alpha;
      const c = this.coef;
      c[s * 5] = (1 - cw) / 2 / a0;
      c[s * 5 + 1] = (1 - cw) / a0;
      c[s * 5 + 2] = (1 - cw) / 2 / a0;
      c[s * 5 + 3] = (-2 * cw) / a0;
      c[s * 5 + 4] = (1 - alpha) / a0;
    }
  }

  /** Appends `src` (a FIFO's contents, all of it) and resamples into `out`. */
  process(src: StereoFifo, out: StereoFifo): void {
    const n = src.length;
    const inp = this.input;
    const at = inp.length * 2;
    inp.append(src.buf, 0, n);
    src.dropBefore(src.end);
    if (this.filtering) {
      const x = inp.buf;
      const c = this.coef;
      const s = this.state;
      for (let i = 0; i < n; i++) {
        for (let ch = 0; ch < 2; ch++) {
          let v = x[at + 2 * i + ch]!;
          for (let q = 0; q < 2; q++) {
            const o = ch * 8 + q * 4;
            const k = q * 5;
            const y = c[k]! * v + c[k + 1]! * s[o]! + c[k + 2]! * s[o + 1]! - c[k + 3]! * s[o + 2]! - c[k + 4]! * s[o + 3]!;
            s[o + 1] = s[o]!;
            s[o] = v;
            s[o + 3] = s[o + 2]!;
            s[o + 2] = y;
            v = y;
          }
          x[at + 2 * i + ch] = v;
        }
      }
    }
    const x = inp.buf;
    const len = inp.length;
    const r = this.ratioValue;
    let t = this.t;
    const room = Math.ceil((len - t) / r) + 2;
    out.reserve(room);
    const ob = out.buf;
    let o = out.length * 2;
    while (t + 2 < len) {
      const i = Math.floor(t);
      const f = t - i;
      for (let ch = 0; ch < 2; ch++) {
        const xm = x[(i - 1) * 2 + ch]!;
        const x0 = x[i * 2 + ch]!;
        const x1 = x[(i + 1) * 2 + ch]!;
        const x2 = x[(i + 2) * 2 + ch]!;
        const c1 = 0.5 * (x1 - xm);
        const c2 = xm - 2.5 * x0 + 2 * x1 - 0.5 * x2;
        const c3 = 0.5 * (x2 - xm) + 1.5 * (x0 - x1);
        ob[o + ch] = ((c3 * f + c2) * f + c1) * f + x0;
      }
      o += 2;
      t += r;
    }
    out.length = o / 2;
    const keep = Math.floor(t) - 1;
    if (keep > 0) {
      inp.dropBefore(inp.base + keep);
      t -= keep;
    }
    this.t = t;
  }

  reset(): void {
    this.input.clear();
    this.input.appendZeros(1);
    this.t = 1;
    this.state.fill(0);
  }
}

/** Samples of input the stretcher holds back before its first output (its latency bound), per channel. */
export const WSOLA_LATENCY = SEG + TOL;
