/**
 * The comparison's figures, from the per-run records, to the Markdown table. Pure: no I/O.
 */
import type { ReceiverReport } from './analyze.js';
import type { ProcessUsage } from './packets.js';
import { median, ratio } from './stats.js';

/** One pusher, one run. */
export interface PusherRun {
  /** 'ffmpeg' or 'kook-rtp'. */
  readonly pusher: string;
  /** What the table calls it (e.g. "kook-rtp (stand-in: ffmpeg)" while the CLI does not exist). */
  readonly label: string;
  readonly command: readonly string[];
  readonly status: 'ok' | 'failed';
  /** Why it failed, in one sentence. */
  readonly failure?: string;
  /** The last lines of the child's stderr. */
  readonly stderrTail: string;
  /** Seconds of audio in the input file (ffprobe). */
  readonly audioSeconds: number;
  readonly usage?: ProcessUsage;
  /** ms from spawn to the receiver's first RTP datagram (same CLOCK_MONOTONIC on both sides). */
  readonly firstRtpMs?: number;
  readonly firstRtcpMs?: number;
  readonly receiver?: ReceiverReport;
}

/**
 * The one line of a failed child's stderr worth quoting: the first that names an error (`Error:`,
 * `Error [CODE]:`, `error:`, ffmpeg's "Invalid ..."/"No such file"), else the last non-empty line.
 *
 * @returns the line trimmed to 200 characters, or '' for an empty stderr.
 */
export function stderrHeadline(stderr: string): string {
  const lines = stderr.split('\n').map((l) => l.trim()).filter((l) => l !== '');
  const line = lines.find((l) => /\b\w*Error\b( \[[A-Z_]+\])?:|\berror:|^Invalid |No such file/i.test(l)) ?? lines[lines.length - 1] ?? '';
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

/** One row of the table: how to read the figure out of a run. */
export interface Metric {
  readonly name: string;
  readonly unit: string;
  readonly get: (run: PusherRun) => number | undefined;
  /** Decimal places shown. */
  readonly digits: number;
  /** Show the value also as a percentage of the room limit. */
  readonly ofLimit?: boolean;
}

/** The room limit the bitrate rows are compared against, bits/s. */
export const ROOM_LIMIT_BPS = 48_000;

const kbps = (bps: number | undefined): number | undefined => (bps === undefined ? undefined : bps / 1000);

/** Every figure the comparison reports, in table order. */
export const METRICS: readonly Metric[] = [
  {
    name: 'CPU per minute of audio (user+sys)',
    unit: 's/min',
    digits: 2,
    get: (r) => (r.usage && r.audioSeconds > 0 ? ((r.usage.userSeconds + r.usage.systemSeconds) * 60) / r.audioSeconds : undefined),
  },
  { name: 'CPU user', unit: 's', digits: 2, get: (r) => r.usage?.userSeconds },
  { name: 'CPU sys', unit: 's', digits: 2, get: (r) => r.usage?.systemSeconds },
  { name: 'Peak memory (max RSS)', unit: 'MiB', digits: 1, get: (r) => (r.usage ? r.usage.maxRssKiB / 1024 : undefined) },
  { name: 'Wall time', unit: 's', digits: 2, get: (r) => r.usage?.elapsedSeconds },
  { name: 'Start to first RTP packet', unit: 'ms', digits: 0, get: (r) => r.firstRtpMs },
  { name: 'Start to first RTCP packet', unit: 'ms', digits: 0, get: (r) => r.firstRtcpMs },
  { name: 'Worst 1 s window, Opus payload', unit: 'kbit/s', digits: 1, ofLimit: true, get: (r) => kbps(r.receiver?.rtp.worstWindowBps.payload) },
  { name: 'Worst 1 s window, RTP (hdr+payload)', unit: 'kbit/s', digits: 1, ofLimit: true, get: (r) => kbps(r.receiver?.rtp.worstWindowBps.rtp) },
  { name: 'Worst 1 s window, IP (RTP+28)', unit: 'kbit/s', digits: 1, ofLimit: true, get: (r) => kbps(r.receiver?.rtp.worstWindowBps.ip) },
  { name: 'Worst 1 s of media time (RTP ts), RTP', unit: 'kbit/s', digits: 1, ofLimit: true, get: (r) => kbps(r.receiver?.rtp.worstMediaWindowRtpBps) },
  { name: 'Mean bitrate, RTP', unit: 'kbit/s', digits: 1, ofLimit: true, get: (r) => kbps(r.receiver?.rtp.meanBps.rtp) },
  { name: 'Inter-arrival gap p50', unit: 'ms', digits: 2, get: (r) => r.receiver?.rtp.gapMs.p50 },
  { name: 'Inter-arrival gap p99', unit: 'ms', digits: 2, get: (r) => r.receiver?.rtp.gapMs.p99 },
  { name: 'Inter-arrival gap max', unit: 'ms', digits: 2, get: (r) => r.receiver?.rtp.gapMs.max },
  { name: 'Jitter (RFC 3550 A.8), end', unit: 'ms', digits: 3, get: (r) => r.receiver?.rtp.jitterMs },
  { name: 'Jitter (RFC 3550 A.8), peak', unit: 'ms', digits: 3, get: (r) => r.receiver?.rtp.jitterMaxMs },
  { name: 'Audio sent (RTP timestamp span)', unit: 's', digits: 2, get: (r) => r.receiver?.rtp.mediaSeconds },
  { name: 'RTP packets', unit: '', digits: 0, get: (r) => r.receiver?.rtp.packets },
  { name: 'Marker bits', unit: '', digits: 0, get: (r) => r.receiver?.rtp.markers },
  { name: 'RTCP datagrams', unit: '', digits: 0, get: (r) => r.receiver?.rtcp.datagrams },
  { name: 'RTCP muxed on the RTP port', unit: '', digits: 0, get: (r) => r.receiver?.rtcp.muxed },
  { name: 'RTCP SR', unit: '', digits: 0, get: (r) => r.receiver?.rtcp.sr },
  { name: 'RTCP SDES', unit: '', digits: 0, get: (r) => r.receiver?.rtcp.sdes },
  { name: 'RTCP BYE', unit: '', digits: 0, get: (r) => r.receiver?.rtcp.bye },
  { name: 'Sequence: lost', unit: '', digits: 0, get: (r) => r.receiver?.rtp.sequence.lost },
  { name: 'Sequence: gaps / dup / reordered', unit: '', digits: 0, get: (r) => {
    const s = r.receiver?.rtp.sequence;
    return s === undefined ? undefined : s.gaps + s.duplicates + s.reordered;
  } },
];

/**
 * The median of a metric over several runs of one pusher, ignoring failed runs and missing values.
 *
 * @returns `undefined` when no run has the figure.
 */
export function metricMedian(metric: Metric, runs: readonly PusherRun[]): number | undefined {
  const values = runs.filter((r) => r.status === 'ok').map(metric.get).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return values.length === 0 ? undefined : median(values);
}

/** Formats a number for the table: fixed decimals, "–" for missing. */
export function formatValue(value: number | undefined, digits: number): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  return value.toFixed(digits);
}

/** Formats a ratio as "1.23×", "–" when it means nothing. */
export function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '–';
}

/** One row of the summary, numbers included (for results.json). */
export interface SummaryRow {
  readonly metric: string;
  readonly unit: string;
  readonly baseline: number | null;
  readonly candidate: number | null;
  /** candidate / baseline, null when it means nothing. */
  readonly ratio: number | null;
}

/** Medians of every metric for both sides, with the ratio candidate / baseline. */
export function summarize(baseline: readonly PusherRun[], candidate: readonly PusherRun[]): SummaryRow[] {
  return METRICS.map((m) => {
    const b = metricMedian(m, baseline);
    const c = metricMedian(m, candidate);
    const q = ratio(c, b);
    return { metric: m.name, unit: m.unit, baseline: b ?? null, candidate: c ?? null, ratio: Number.isFinite(q) ? q : null };
  });
}

/**
 * The Markdown table: one row per metric, columns baseline, candidate, candidate / baseline. Bitrate rows also
 * show the share of the room limit, e.g. "41.9 (87%)".
 */
export function markdownTable(rows: readonly SummaryRow[], baselineLabel: string, candidateLabel: string, limitBps = ROOM_LIMIT_BPS): string {
  const cell = (row: SummaryRow, v: number | null): string => {
    const metric = METRICS.find((m) => m.name === row.metric);
    const text = formatValue(v ?? undefined, metric?.digits ?? 2);
    if (metric?.ofLimit && v !== null) return `${text} (${Math.round((v * 1000 * 100) / limitBps)}%)`;
    return text;
  };
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    `| metric | unit | ${esc(baselineLabel)} | ${esc(candidateLabel)} | ratio |`,
    '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${esc(r.metric)} | ${r.unit} | ${cell(r, r.baseline)} | ${cell(r, r.candidate)} | ${formatRatio(r.ratio ?? Number.NaN)} |`),
  ];
  return `${lines.join('\n')}\n`;
}
