/**
 * Signal analysis for the DSP and codec tests: sine generation, least-squares tone fit (THD+N), a radix-2 FFT with
 * a Blackman-Harris window (image/alias search), and normalised cross-correlation.
 */

/** A sine of `freq` Hz at `rate`, `amplitude` peak, `length` samples, starting at phase 0. */
export function sine(freq: number, rate: number, length: number, amplitude = 1, phase = 0): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = amplitude * Math.sin((2 * Math.PI * freq * i) / rate + phase);
  return out;
}

/** Least-squares amplitude of a tone at `freq` in `x` (sin and cos fitted together, plus DC). */
export function fitTone(x: ArrayLike<number>, freq: number, rate: number): { amplitude: number; residualRms: number } {
  // Solve the 3x3 normal equations for a·sin + b·cos + c.
  const n = x.length;
  let ss = 0, sc = 0, s1 = 0, cc = 0, c1 = 0, xs = 0, xc = 0, x1 = 0;
  for (let i = 0; i < n; i++) {
    const w = (2 * Math.PI * freq * i) / rate;
    const s = Math.sin(w);
    const c = Math.cos(w);
    const v = x[i] as number;
    ss += s * s; sc += s * c; s1 += s; cc += c * c; c1 += c; xs += v * s; xc += v * c; x1 += v;
  }
  const m = [
    [ss, sc, s1, xs],
    [sc, cc, c1, xc],
    [s1, c1, n, x1],
  ];
  for (let col = 0; col < 3; col++) {
    const pivot = m[col]![col]!;
    for (let r = 0; r < 3; r++) {
      if (r === col) continue;
      const f = m[r]![col]! / pivot;
      for (let k = col; k < 4; k++) m[r]![k] = m[r]![k]! - f * m[col]![k]!;
    }
  }
  const a = m[0]![3]! / m[0]![0]!;
  const b = m[1]![3]! / m[1]![1]!;
  const c = m[2]![3]! / m[2]![2]!;
  let res = 0;
  for (let i = 0; i < n; i++) {
    const w = (2 * Math.PI * freq * i) / rate;
    const e = (x[i] as number) - (a * Math.sin(w) + b * Math.cos(w) + c);
    res += e * e;
  }
  return { amplitude: Math.hypot(a, b), residualRms: Math.sqrt(res / n) };
}

/** THD+N in dB: everything that is not the fitted fundamental, relative to the fundamental's RMS. */
export function thdPlusNoiseDb(x: ArrayLike<number>, freq: number, rate: number): number {
  const { amplitude, residualRms } = fitTone(x, freq, rate);
  return 20 * Math.log10(residualRms / (amplitude / Math.SQRT2));
}

/** Magnitude spectrum (length n/2+1) of the first n samples (n a power of two) under a 4-term Blackman-Harris window. */
export function spectrum(x: ArrayLike<number>, n: number): Float64Array {
  const re = new Float64Array(n);
  const im = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const t = (2 * Math.PI * i) / (n - 1);
    const w = 0.35875 - 0.48829 * Math.cos(t) + 0.14128 * Math.cos(2 * t) - 0.01168 * Math.cos(3 * t);
    re[i] = (x[i] as number) * w;
  }
  // Iterative radix-2 FFT.
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      [re[i], re[j]] = [re[j]!, re[i]!];
      [im[i], im[j]] = [im[j]!, im[i]!];
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    for (let i = 0; i < n; i += len) {
      for (let k = 0; k < len / 2; k++) {
        const wr = Math.cos(ang * k);
        const wi = Math.sin(ang * k);
        const a = i + k;
        const b = a + len / 2;
        const tr = re[b]! * wr - im[b]! * wi;
        const ti = re[b]! * wi + im[b]! * wr;
        re[b] = re[a]! - tr;
        im[b] = im[a]! - ti;
        re[a] = re[a]! + tr;
        im[a] = im[a]! + ti;
      }
    }
  }
  const mag = new Float64Array(n / 2 + 1);
  for (let i = 0; i <= n / 2; i++) mag[i] = Math.hypot(re[i]!, im[i]!);
  return mag;
}

/**
 * The strongest spectral component outside ±`guardHz` of `freq` (and above `minHz`), in dB relative to the peak at
 * `freq`.
 */
export function worstSpurDb(x: ArrayLike<number>, freq: number, rate: number, n: number, guardHz = 30, minHz = 20): {
  db: number;
  atHz: number;
} {
  const mag = spectrum(x, n);
  const hzPerBin = rate / n;
  let ref = 0;
  for (let i = 0; i < mag.length; i++) if (Math.abs(i * hzPerBin - freq) <= guardHz) ref = Math.max(ref, mag[i]!);
  let worst = 0;
  let at = 0;
  for (let i = 0; i < mag.length; i++) {
    const hz = i * hzPerBin;
    if (hz < minHz || Math.abs(hz - freq) <= guardHz) continue;
    if (mag[i]! > worst) {
      worst = mag[i]!;
      at = hz;
    }
  }
  return { db: 20 * Math.log10(worst / ref), atHz: at };
}

/** Normalised cross-correlation of two equal-length sequences (1 = identical shape). */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let ab = 0, aa = 0, bb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    ab += x * y; aa += x * x; bb += y * y;
  }
  return ab / Math.sqrt(aa * bb);
}

/** The lag in 0..maxLag at which `b` delayed best matches `a` (b[i + lag] ≈ a[i]), and the correlation there. */
export function bestLag(a: ArrayLike<number>, b: ArrayLike<number>, maxLag: number, n: number): { lag: number; r: number } {
  let best = { lag: 0, r: -Infinity };
  for (let lag = 0; lag <= maxLag; lag++) {
    let ab = 0, aa = 0, bb = 0;
    for (let i = 0; i < n; i++) {
      const x = a[i] as number;
      const y = b[i + lag] as number;
      ab += x * y; aa += x * x; bb += y * y;
    }
    const r = ab / Math.sqrt(aa * bb);
    if (r > best.r) best = { lag, r };
  }
  return best;
}
