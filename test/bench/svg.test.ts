import { describe, expect, it } from 'vitest';
import { bitrateChartSvg, CHART_MARGIN, escapeXml, niceCeil } from '../../bench/lib/svg.js';

describe('niceCeil', () => {
  it.each([
    { x: 0, mantissas: undefined, expected: 1 },
    { x: 0.7, mantissas: undefined, expected: 1 },
    { x: 1, mantissas: undefined, expected: 1 },
    { x: 1.5, mantissas: undefined, expected: 2 },
    { x: 12.5, mantissas: undefined, expected: 20 },
    { x: 51, mantissas: undefined, expected: 100 },
    { x: 12.5, mantissas: [1, 1.5, 2], expected: 15 },
    { x: 9.5, mantissas: [1, 2, 5], expected: 10 },
  ])('niceCeil($x) = $expected', ({ x, mantissas, expected }) => {
    expect(niceCeil(x, mantissas)).toBeCloseTo(expected, 9);
  });
});

describe('escapeXml', () => {
  it('escapes the five XML specials', () => {
    expect(escapeXml(`a<b>&"c'`)).toBe('a&lt;b&gt;&amp;&quot;c&apos;');
  });
});

describe('bitrateChartSvg', () => {
  // 720 × 360, margins 56/16/36/40: plot 648 × 284. Limit 48 kbit/s: y top = 5 × niceCeil(62.4 / 5) = 75 kbit/s.
  const svg = bitrateChartSvg({
    title: 'test <chart>',
    limitBps: 48_000,
    series: [
      { label: 'ffmpeg', color: '#1f77b4', values: [48_000, 24_000] },
      { label: 'kook & co', color: '#2ca02c', values: [0, Number.NaN, 75_000] },
    ],
  });
  const plotH = 360 - CHART_MARGIN.top - CHART_MARGIN.bottom;
  const y = (kbps: number): number => Math.round((CHART_MARGIN.top + plotH - (kbps / 75) * plotH) * 10) / 10;

  it('is a standalone SVG document with an escaped title and labels', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg" width="720" height="360"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('test &lt;chart&gt;');
    expect(svg).toContain('kook &amp; co');
  });

  it('draws the 100% and 120% lines at 48 and 57.6 kbit/s', () => {
    const limits = [...svg.matchAll(/<line class="limit" x1="56" y1="([\d.]+)"/g)].map((m) => Number(m[1]));
    expect(limits).toEqual([y(48), y(57.6)]);
  });

  it('puts one point per second at the middle of the second, skipping NaN', () => {
    const lines = [...svg.matchAll(/<polyline class="series"[^>]* points="([^"]*)"/g)].map((m) => m[1]);
    // 3 seconds on the x axis (the longest series): x(s) = 56 + s / 3 * 648.
    expect(lines[0]).toBe(`164,${y(48)} 380,${y(24)}`);
    expect(lines[1]).toBe(`164,${y(0)} 596,${y(75)}`);
  });
});

describe('bitrateChartSvg legend', () => {
  it('names both limits with their values', () => {
    const svg = bitrateChartSvg({ title: 't', limitBps: 48_000, series: [] });
    expect(svg).toContain('100% of the room limit (48 kbit/s)');
    expect(svg).toContain('120% of the room limit (57.6 kbit/s)');
  });
});
