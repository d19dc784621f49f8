import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import type { KookStreamReport } from '../../src/emulator/kook/stream.js';
import type { SenderStats } from '../../src/dashboard/sources.js';
import { DashboardSampler } from '../../src/dashboard/sampler.js';
import type { DashboardSource } from '../../src/dashboard/sources.js';
import { codeOf } from '../helpers.js';

/** A sender as the dashboard sees it: `stats()` (and `play`, by which it is recognised). */
function fakeSender(initial: Partial<Counters> = {}): { source: DashboardSource; set(c: Partial<Counters>): void } {
  let c: Counters = { packets: 0, rtp: 0, latenessCount: 0, latenessMeanMs: 0, backlogMs: 0, ...initial };
  const sender = { stats: (): SenderStats => statsOf(c), play: () => undefined };
  return { source: sender as unknown as DashboardSource, set: (n) => (c = { ...c, ...n }) };
}

interface Counters {
  packets: number;
  rtp: number;
  latenessCount: number;
  latenessMeanMs: number;
  backlogMs: number;
}

function statsOf(c: Counters): SenderStats {
  return {
    status: 'playing',
    ssrc: 1111,
    packetsSent: c.packets,
    silenceFramesSent: 0,
    bytes: { payload: c.rtp - 12 * c.packets, rtp: c.rtp, ip: c.rtp + 28 * c.packets },
    bitrate: { currentBps: 12345, maxBps: 50000 },
    lateness: { count: c.latenessCount, p50Ms: 0.1, p99Ms: 1, p999Ms: 2, maxMs: 3, meanMs: c.latenessMeanMs },
    stalls: 1,
    underruns: 2,
    guard: { limitBytes: 6000, windowBytes: 0, maxWindowBytes: 0, delayedPackets: 0, backlogMs: c.backlogMs, maxBacklogMs: 0, adviceActive: false },
    rtcp: { srSent: 0, rrSent: 0, byeSent: 0, bytesSent: 0, received: 0, malformed: 0, reportsReceived: 0, byeReceived: 0 },
    remote: undefined,
    sendErrors: 0,
    sendSkipped: 0,
    sequenceNumber: 0,
    rollovers: 0,
    timestamp: 0,
    queued: 0,
  };
}

function fakeEmulator(): { source: DashboardSource; reports: KookStreamReport[] } {
  const reports: KookStreamReport[] = [];
  const emulator = { apiBase: 'http://127.0.0.1:1/api/v3', reports: () => reports.map((r) => ({ ...r })) };
  return { source: emulator as unknown as DashboardSource, reports };
}

function report(over: Partial<KookStreamReport>): KookStreamReport {
  return {
    channelId: '1001', ssrc: 1111, payloadType: 111, bitrate: 48000, killRatio: 1.2, rtcpMux: true, port: 40000, rtcpPort: 40000,
    source: '127.0.0.1:5000', rtcpSource: null, packets: 0, bytes: 0, validPackets: 0, lost: 0, expected: 0, duplicates: 0,
    outOfOrder: 0, jitterMs: 0, maxBitrate1s: 0, meanBitrate: 0, markerPackets: 0, malformed: 0,
    rtcp: { packets: 0, srs: 0, rrs: 0, sdes: 0, cname: null, byes: 0, byeReason: null, rrsSent: 0, malformed: 0, compoundIssues: 0, onWrongPort: 0 },
    droppedFromOtherSources: 0, ssrcMismatches: 0, ptMismatches: 0, mismatchedSsrcs: [], mismatchedPts: [], levelDbfs: null, peakDbfs: null,
    decodedFrames: 0, decodeErrors: 0, wavPath: null, keepAlives: 0, closeReason: null, startedAt: 1000, firstPacketAt: null,
    lastPacketAt: null, endedAt: null,
    ...over,
  };
}

describe('DashboardSampler', () => {
  it('turns the byte counter into a per-second bitrate, and the lateness sum into a per-second mean', () => {
    let now = 10_000;
    const sampler = new DashboardSampler({ now: () => now });
    const s = fakeSender({ packets: 10, rtp: 1000, latenessCount: 10, latenessMeanMs: 1 });
    expect(sampler.add(s.source, { roomBitrate: 48000 })).toBe('sender-1');
    // No baseline yet: the sender's own last-second figure.
    expect(sampler.sample().rows[0]!.point.bps).toBe(12345);
    now += 1000;
    // 6000 bytes in one second = 48 000 bit/s; 50 packets at 3 ms after 10 at 1 ms.
    s.set({ packets: 60, rtp: 7000, latenessCount: 60, latenessMeanMs: (10 * 1 + 50 * 3) / 60, backlogMs: 40 });
    const row = sampler.sample().rows[0]!;
    expect(row.point.bps).toBe(48000);
    expect(row.point.latenessMs).toBeCloseTo(3, 9);
    expect(row.point.backlogMs).toBe(40);
    expect(row.limitBps).toBe(48000);
    expect(row.kickBps).toBe(57600);
    expect(row.sender?.packets).toBe(60);
    // Half a second later, 1500 bytes: still a rate per second.
    now += 500;
    s.set({ rtp: 8500 });
    expect(sampler.sample().rows[0]!.point.bps).toBe(24000);
    expect(sampler.history()['sender-1']!.map((p) => p.bps)).toEqual([12345, 48000, 24000]);
  });

  it("takes a sender's seconds from its progress events when its stats() is a snapshot refreshed only with them", async () => {
    // As the pacer thread does: stats() returns the counters of the last progress event, not the live ones.
    const sender = Object.assign(new EventEmitter(), { snapshot: statsOf({ packets: 0, rtp: 0, latenessCount: 0, latenessMeanMs: 0, backlogMs: 0 }) });
    const source = Object.assign(sender, { stats: () => sender.snapshot, play: () => undefined }) as unknown as DashboardSource;
    let now = 0;
    const sampler = new DashboardSampler({ now: () => now });
    sampler.add(source, { name: 'threaded' });
    const progress = (rtp: number, count: number, meanMs: number): void => {
      sender.snapshot = statsOf({ packets: count, rtp, latenessCount: count, latenessMeanMs: meanMs, backlogMs: 0 });
      sender.emit('progress', { type: 'progress', stats: sender.snapshot });
    };
    progress(1000, 10, 1);
    await new Promise((r) => setTimeout(r, 200));
    // 200 ms of a 48 kbit/s stream: 1200 bytes; 10 more packets at 2 ms.
    progress(2200, 20, 1.5);
    // Two dashboard samples before the next event: a timer delta would say 0 the second time.
    for (const _ of [1, 2]) {
      now += 1000;
      const p = sampler.sample().rows[0]!.point;
      expect(p.bps! / 48000).toBeGreaterThan(0.8);
      expect(p.bps! / 48000).toBeLessThan(1.1);
      expect(p.latenessMs).toBeCloseTo(2, 9);
    }
    // Removing the row stops listening.
    sampler.remove('threaded');
    expect(sender.listenerCount('progress')).toBe(0);
  });

  it('restarts the baseline when the counters go back (a new sender after a rejoin)', () => {
    let now = 0;
    const sampler = new DashboardSampler({ now: () => now });
    const s = fakeSender({ rtp: 100_000 });
    sampler.add(s.source, { name: 'bot' });
    sampler.sample();
    now += 1000;
    s.set({ rtp: 500 });
    // Never a negative bitrate: the sender's own figure instead.
    expect(sampler.sample().rows[0]!.point.bps).toBe(12345);
  });

  it('takes the limit from the guard when no room bitrate is given, and keeps at most historyLength points', () => {
    let now = 0;
    const sampler = new DashboardSampler({ now: () => now, historyLength: 3 });
    sampler.add(fakeSender().source);
    for (let i = 0; i < 5; i++) {
      now += 1000;
      sampler.sample();
    }
    expect(sampler.rows()[0]!.limitBps).toBe(48000);
    expect(sampler.history()['sender-1']!.map((p) => p.t)).toEqual([3000, 4000, 5000]);
  });

  it('shows one row per emulated stream, with its kick, and the bitrate it received', () => {
    let now = 5000;
    const sampler = new DashboardSampler({ now: () => now, keepFinished: 1 });
    const emu = fakeEmulator();
    expect(sampler.add(emu.source)).toBe('emulator-1');
    emu.reports.push(report({ startedAt: 1000, packets: 10, bytes: 1000, lastPacketAt: 4900 }));
    let tick = sampler.sample();
    expect(tick.rows.map((r) => [r.name, r.status, r.point.bps, r.point.gapMs])).toEqual([['emulator-1/1001#1', 'live', null, 100]]);
    now += 1000;
    emu.reports[0] = report({
      startedAt: 1000, packets: 90, bytes: 9000, lastPacketAt: 5990, endedAt: 5995, closeReason: 'kicked', ptMismatches: 3,
      kicked: { reason: 'bitrate', windowBitrate: 70000, limit: 57600, atMs: 5990 },
    });
    emu.reports.push(report({ startedAt: 5996, port: 40002, source: null }));
    tick = sampler.sample();
    expect(tick.rows.map((r) => [r.name, r.status])).toEqual([
      ['emulator-1/1001#1', 'kicked'],
      ['emulator-1/1001#2', 'waiting'],
    ]);
    const kicked = tick.rows[0]!;
    expect(kicked.point.bps).toBe(64000);
    expect(kicked.emulator?.kicked?.windowBitrate).toBe(70000);
    expect(kicked.emulator?.ptMismatches).toBe(3);
    expect(kicked.kickBps).toBe(57600);
    // A second finished stream pushes the first off the page (keepFinished: 1).
    now += 1000;
    emu.reports[1] = report({ startedAt: 5996, port: 40002, source: null, endedAt: 6500, closeReason: 'leave' });
    tick = sampler.sample();
    expect(tick.removed).toEqual(['emulator-1/1001#1']);
    expect(tick.rows.map((r) => r.name)).toEqual(['emulator-1/1001#2']);
    expect(sampler.sample().rows.map((r) => r.name)).toEqual(['emulator-1/1001#2']);
  });

  it('gives a stream first seen already kicked its mean rate, so the chart shows the spike', () => {
    const sampler = new DashboardSampler({ now: () => 10_000 });
    const emu = fakeEmulator();
    sampler.add(emu.source, { name: 'emu' });
    emu.reports.push(
      report({
        packets: 22, bytes: 7000, firstPacketAt: 9000, lastPacketAt: 9500, endedAt: 9500, jitterMs: 0.4, closeReason: 'kicked',
        kicked: { reason: 'bitrate', windowBitrate: 58400, limit: 57600, atMs: 9500 },
      }),
    );
    const row = sampler.sample().rows[0]!;
    // 7000 bytes in the 500 ms it lived: 112 kbit/s.
    expect(row.point).toMatchObject({ bps: 112000, jitterMs: 0.4, gapMs: null });
    expect(row.status).toBe('kicked');
    expect(sampler.scrape()[0]!.emulator?.kicked?.windowBitrate).toBe(58400);
  });

  it('removes a source by object or by name, and reports the rows gone', () => {
    const sampler = new DashboardSampler();
    const a = fakeSender();
    const b = fakeSender();
    sampler.add(a.source, { name: 'a' });
    sampler.add(b.source, { name: 'b' });
    sampler.sample();
    expect(sampler.remove(a.source)).toBe(true);
    expect(sampler.remove('b')).toBe(true);
    expect(sampler.remove('b')).toBe(false);
    expect(sampler.sample()).toMatchObject({ rows: [], removed: ['a', 'b'] });
  });

  it.each([
    { name: 'a plain object', source: {}, code: 'INVALID_ARGUMENT' },
    { name: 'null', source: null, code: 'INVALID_ARGUMENT' },
  ])('refuses $name', ({ source, code }) => {
    const sampler = new DashboardSampler();
    expect(codeOf(() => sampler.add(source as unknown as DashboardSource))).toBe(code);
  });

  it('refuses the same source twice and a name taken', () => {
    const sampler = new DashboardSampler();
    const a = fakeSender();
    sampler.add(a.source, { name: 'x' });
    expect(codeOf(() => sampler.add(a.source))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => sampler.add(fakeSender().source, { name: 'x' }))).toBe('INVALID_ARGUMENT');
  });
});
