import { describe, expect, it } from 'vitest';
import { analyzeStream, type StreamAnalysis } from '../../bench/lib/analyze.js';
import { emptyRtcpCounts } from '../../bench/lib/packets.js';
import { formatRatio, formatValue, markdownTable, METRICS, metricMedian, stderrHeadline, summarize, type PusherRun } from '../../bench/lib/report.js';

function run(cpu: number, worstRtpBps: number, status: 'ok' | 'failed' = 'ok'): PusherRun {
  // An empty stream (mean bitrate NaN, gaps NaN) with only the worst window filled in.
  const rtp: StreamAnalysis = {
    ...analyzeStream([]),
    worstWindowBps: { payload: worstRtpBps - 4800, rtp: worstRtpBps, ip: worstRtpBps + 11_200 },
  };
  return {
    pusher: 'x',
    label: 'x',
    command: [],
    status,
    stderrTail: '',
    audioSeconds: 30,
    usage: { elapsedSeconds: 30, userSeconds: cpu, systemSeconds: 0, maxRssKiB: 51_200, exitStatus: 0 },
    receiver: { rtpPort: 1, rtcpPort: 2, nonRtp: 0, rtp, rtcp: emptyRtcpCounts() },
  };
}

const metric = (name: string) => METRICS.find((m) => m.name === name)!;

describe('metrics', () => {
  it.each([
    { name: 'CPU per minute of audio (user+sys)', expected: 2 }, // 1 s of CPU for 30 s of audio
    { name: 'Peak memory (max RSS)', expected: 50 },
    { name: 'Worst 1 s window, RTP (hdr+payload)', expected: 52.8 },
    { name: 'Worst 1 s window, IP (RTP+28)', expected: 64 },
  ])('$name', ({ name, expected }) => {
    expect(metric(name).get(run(1, 52_800))).toBeCloseTo(expected, 9);
  });

  it('medians ignore failed runs', () => {
    const m = metric('CPU per minute of audio (user+sys)');
    expect(metricMedian(m, [run(1, 0), run(3, 0), run(100, 0, 'failed')])).toBeCloseTo(4, 9);
    expect(metricMedian(m, [run(1, 0, 'failed')])).toBeUndefined();
  });
});

describe('formatting', () => {
  it.each([
    { v: 1.234, d: 2, expected: '1.23' },
    { v: undefined, d: 2, expected: '–' },
    { v: Number.NaN, d: 0, expected: '–' },
  ])('formatValue($v, $d)', ({ v, d, expected }) => {
    expect(formatValue(v, d)).toBe(expected);
  });
  it('formatRatio', () => {
    expect(formatRatio(0.5)).toBe('0.50×');
    expect(formatRatio(Number.NaN)).toBe('–');
  });
});

describe('summarize + markdownTable', () => {
  const rows = summarize([run(1, 52_800)], [run(0.5, 48_000)]);

  it('computes candidate / baseline', () => {
    const cpu = rows.find((r) => r.metric === 'CPU per minute of audio (user+sys)')!;
    expect(cpu).toEqual({ metric: cpu.metric, unit: 's/min', baseline: 2, candidate: 1, ratio: 0.5 });
    const mean = rows.find((r) => r.metric === 'Mean bitrate, RTP')!;
    expect(mean).toMatchObject({ baseline: null, candidate: null, ratio: null });
    const lost = rows.find((r) => r.metric === 'Sequence: lost')!;
    expect(lost).toMatchObject({ baseline: 0, candidate: 0, ratio: 1 });
  });

  it('renders the share of the room limit for bitrate rows', () => {
    const table = markdownTable(rows, 'ffmpeg', 'kook|rtp');
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toBe('| metric | unit | ffmpeg | kook\\|rtp | ratio |');
    expect(lines).toContain('| Worst 1 s window, RTP (hdr+payload) | kbit/s | 52.8 (110%) | 48.0 (100%) | 0.91× |');
    expect(lines).toContain('| CPU per minute of audio (user+sys) | s/min | 2.00 | 1.00 | 0.50× |');
    expect(lines).toContain('| Mean bitrate, RTP | kbit/s | – | – | – |');
    expect(lines).toHaveLength(2 + METRICS.length);
  });
});

describe('stderrHeadline', () => {
  it.each([
    {
      name: 'Node module-not-found trace',
      stderr: "node:internal/modules/run_main:123\n    triggerUncaughtException(\n    ^\nError [ERR_MODULE_NOT_FOUND]: Cannot find module '/x/src/cli/main.ts'\n    at resolve (file:///x.mjs:2:1)\n\nNode.js v20.20.2\n",
      expected: "Error [ERR_MODULE_NOT_FOUND]: Cannot find module '/x/src/cli/main.ts'",
    },
    { name: 'our own error class', stderr: 'KookRtpError: expected an audio stream, found none\n', expected: 'KookRtpError: expected an audio stream, found none' },
    { name: 'ffmpeg', stderr: 'x.mp3: No such file or directory\n', expected: 'x.mp3: No such file or directory' },
    { name: 'nothing recognisable: last line', stderr: 'one\ntwo\n\n', expected: 'two' },
    { name: 'empty', stderr: '', expected: '' },
  ])('$name', ({ stderr, expected }) => {
    expect(stderrHeadline(stderr)).toBe(expected);
  });
});
