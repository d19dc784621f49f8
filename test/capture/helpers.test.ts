/**
 * The capture tests' own parsing and signal maths, checked without any tool: if these were wrong, the tshark and
 * ffmpeg tests could pass for the wrong reason.
 */
import { describe, expect, it } from 'vitest';
import { bestAlignment, correlationAt, fieldRows, parseRtpStreams, tsharkComplaints } from './helpers.js';

// Rows as tshark 4.0.17 prints them (`-q -z rtp,streams`), the second one with a problem mark.
const TABLE = [
  '========================= RTP Streams ========================',
  '   Start time      End time     Src IP addr  Port    Dest IP addr  Port       SSRC          Payload  Pkts         Lost   Min Delta(ms)  Mean Delta(ms)   Max Delta(ms)  Min Jitter(ms) Mean Jitter(ms)  Max Jitter(ms) Problems?',
  '     0.000000      1.588854       127.0.0.1 45858       127.0.0.1 41010 0x00003039      RTPType-111    81     0 (0.0%)          11.562          19.861          22.499          -1.000           0.000           0.000 ',
  '     0.100000      2.000000       127.0.0.1 40000       127.0.0.1 41012 0xCAFE0001             opus    70     3 (4.1%)          10.000          20.500          60.000          -1.000           0.000           0.000 X',
  '==============================================================',
].join('\n');

describe('capture helpers', () => {
  it('parses the rtp,streams table, including the problems mark', () => {
    expect(parseRtpStreams(TABLE)).toEqual([
      { srcAddress: '127.0.0.1', srcPort: 45858, dstAddress: '127.0.0.1', dstPort: 41010, ssrc: 0x3039, payload: 'RTPType-111', packets: 81, lost: 0, minDeltaMs: 11.562, meanDeltaMs: 19.861, maxDeltaMs: 22.499, problems: false },
      { srcAddress: '127.0.0.1', srcPort: 40000, dstAddress: '127.0.0.1', dstPort: 41012, ssrc: 0xcafe0001, payload: 'opus', packets: 70, lost: 3, minDeltaMs: 10, meanDeltaMs: 20.5, maxDeltaMs: 60, problems: true },
    ]);
    expect(parseRtpStreams('')).toEqual([]);
  });

  it('splits field rows and drops only the root banner from tshark stderr', () => {
    expect(fieldRows('1|2|a,b\n\n3|4|\n')).toEqual([['1', '2', 'a,b'], ['3', '4', '']]);
    expect(tsharkComplaints('Running as user "root" and group "root". This could be dangerous.\n')).toEqual([]);
    expect(tsharkComplaints('tshark: The file "x" appears to have been cut short in the middle of a packet.\n')).toHaveLength(1);
  });

  it('finds a known lag in noise and scores a mismatch low', () => {
    // mulberry32: a fixed, well-mixed sequence.
    let seed = 12345;
    const rand = (): number => {
      seed = (seed + 0x6d2b79f5) | 0;
      let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return ((t ^ (t >>> 14)) >>> 0) / 4294967296 - 0.5;
    };
    const a = new Float64Array(24_000).map(() => rand());
    const lag = 1234;
    const b = new Float64Array(a.length + lag);
    b.set(a, lag);
    for (let i = 0; i < b.length; i++) b[i]! += 0.1 * rand();
    const found = bestAlignment(a, b, 4800);
    expect(found.lag).toBe(lag);
    expect(found.correlation).toBeGreaterThan(0.95);
    expect(Math.abs(correlationAt(a, b, lag + 100, 1))).toBeLessThan(0.1);
    const other = new Float64Array(a.length).map(() => rand());
    expect(bestAlignment(a, other, 4800).correlation).toBeLessThan(0.2);
  });
});
