/**
 * A hand-written SVG line chart of bitrate per second, with the room limit drawn at 100% and 120%. No
 * dependencies: the output is a string, built from numbers the caller already has.
 */

/** One line on the chart. */
export interface ChartSeries {
  readonly label: string;
  /** CSS colour. */
  readonly color: string;
  /** Bits per second, one value per second (x = index). */
  readonly values: readonly number[];
}

/** What to draw. */
export interface BitrateChartOptions {
  readonly title: string;
  readonly series: readonly ChartSeries[];
  /** Room limit in bits/s; dashed lines at 100% and 120% of it. */
  readonly limitBps: number;
  /** Default 720 × 360. */
  readonly width?: number;
  readonly height?: number;
}

/** Margins of the plot area inside the SVG, px. */
export const CHART_MARGIN = { left: 56, right: 16, top: 36, bottom: 40 } as const;

/** Escapes text for SVG character data and attribute values. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * The smallest `m × 10^k` at or above `x`, for m in `mantissas` (ascending, within [1, 10]): a round tick step.
 * `niceCeil(12.5)` is 20; `niceCeil(12.5, [1, 1.5, 2])` is 15. Returns 1 for non-positive x.
 */
export function niceCeil(x: number, mantissas: readonly number[] = [1, 2, 5]): number {
  if (!(x > 0)) return 1;
  const exp = 10 ** Math.floor(Math.log10(x));
  for (const m of mantissas) if (m * exp >= x) return m * exp;
  return 10 * exp;
}

const Y_STEPS = [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8] as const;
const Y_TICKS = 5;

const fmt = (n: number): string => (Math.round(n * 10) / 10).toString();

/**
 * Builds the chart. The y axis runs from 0 to five round steps above both the highest value and 130% of the
 * limit, in kbit/s; the x axis is seconds. Each series is a polyline through (second + 0.5, value): the value of
 * a 1 s bin is drawn at the middle of its second.
 *
 * @returns a complete standalone SVG document.
 */
export function bitrateChartSvg(options: BitrateChartOptions): string {
  const width = options.width ?? 720;
  const height = options.height ?? 360;
  const m = CHART_MARGIN;
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const seconds = Math.max(1, ...options.series.map((s) => s.values.length));
  const highest = Math.max(options.limitBps * 1.3, ...options.series.flatMap((s) => s.values.filter(Number.isFinite)));
  const yTopKbps = Y_TICKS * niceCeil(highest / 1000 / Y_TICKS, Y_STEPS);
  const x = (sec: number): number => m.left + (sec / seconds) * plotW;
  const y = (bps: number): number => m.top + plotH - (bps / 1000 / yTopKbps) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="18" text-anchor="middle" font-size="13">${escapeXml(options.title)}</text>`,
  );
  for (let i = 0; i <= Y_TICKS; i++) {
    const kbps = (yTopKbps * i) / Y_TICKS;
    const yy = fmt(y(kbps * 1000));
    out.push(
      `<line x1="${m.left}" y1="${yy}" x2="${m.left + plotW}" y2="${yy}" stroke="#e5e5e5"/>`,
      `<text x="${m.left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle">${fmt(kbps)}</text>`,
    );
  }
  // X ticks: about 10 labels.
  const xStep = Math.max(1, niceCeil(seconds / 10));
  for (let s = 0; s <= seconds; s += xStep) {
    out.push(`<text x="${fmt(x(s))}" y="${m.top + plotH + 16}" text-anchor="middle">${s}</text>`);
  }
  out.push(
    `<text x="${m.left + plotW / 2}" y="${height - 6}" text-anchor="middle">seconds since first packet</text>`,
    `<text x="14" y="${m.top + plotH / 2}" text-anchor="middle" transform="rotate(-90 14 ${m.top + plotH / 2})">kbit/s (RTP bytes, 1 s bins)</text>`,
    `<rect x="${m.left}" y="${m.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999999"/>`,
  );
  const limits = [[1, '#d08000', '100%'], [1.2, '#c00000', '120%']] as const;
  for (const [factor, color] of limits) {
    const yy = fmt(y(options.limitBps * factor));
    out.push(`<line class="limit" x1="${m.left}" y1="${yy}" x2="${m.left + plotW}" y2="${yy}" stroke="${color}" stroke-dasharray="6 4"/>`);
  }
  for (const s of options.series) {
    const points = s.values
      .map((v, sec) => (Number.isFinite(v) ? `${fmt(x(sec + 0.5))},${fmt(y(v))}` : undefined))
      .filter((p) => p !== undefined)
      .join(' ');
    out.push(`<polyline class="series" fill="none" stroke="${escapeXml(s.color)}" stroke-width="1.5" points="${points}"/>`);
  }
  // Legend last, on a white box, so no line crosses its text. The limits are named here rather than on their
  // lines, where the series would run through the label.
  const legend = [
    ...options.series.map((s) => ({ color: escapeXml(s.color), dash: '', text: escapeXml(s.label) })),
    ...limits.map(([factor, color, name]) => ({
      color,
      dash: ' stroke-dasharray="6 4"',
      text: `${name} of the room limit (${fmt((options.limitBps * factor) / 1000)} kbit/s)`,
    })),
  ];
  const longest = Math.max(...legend.map((e) => e.text.length));
  out.push(`<rect x="${m.left + 4}" y="${m.top + 5}" width="${36 + longest * 6.2}" height="${legend.length * 14 + 4}" fill="#ffffff" fill-opacity="0.85"/>`);
  legend.forEach((e, i) => {
    const ly = m.top + 14 + i * 14;
    out.push(
      `<line x1="${m.left + 8}" y1="${ly}" x2="${m.left + 28}" y2="${ly}" stroke="${e.color}" stroke-width="2"${e.dash}/>`,
      `<text x="${m.left + 32}" y="${ly}" dominant-baseline="middle">${e.text}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}
