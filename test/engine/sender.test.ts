import { describe, expect, it } from 'vitest';
import { expectWarnings } from '../setup/warnings.js';
import { FakeClock } from '../../src/pacer/clock.js';
import { createScheduler } from '../../src/pacer/scheduler.js';
import { createRtpSender, type RtpSenderOptions } from '../../src/engine/sender.js';
import type { BitrateAdviceEvent, StallEvent } from '../../src/pacer/stats.js';
import type { OpusFrame } from '../../src/media/frame.js';
import { decodeRtpPacket } from '../../src/wire/rtp/packet.js';
import { RtpSequencer } from '../../src/wire/rtp/sequencer.js';
import { decodeCompound } from '../../src/wire/rtcp/compound.js';
import { ntpToUnixMs } from '../../src/wire/ntp.js';
import { FakeTransport } from '../pacer/fakeTransport.js';

function frames(n: number, size = 100, samples = 960): OpusFrame[] {
  return Array.from({ length: n }, (_, i) => ({ data: new Uint8Array(size).fill(i & 0xff), samples }));
}

function* endless(size = 100): Generator<OpusFrame> {
  const data = new Uint8Array(size).fill(0x78);
  for (;;) yield { data, samples: 960 };
}

async function* asyncFrames(list: OpusFrame[]): AsyncGenerator<OpusFrame> {
  for (const f of list) {
    await Promise.resolve();
    yield f;
  }
}

function setup(extra: Partial<RtpSenderOptions> = {}) {
  const clock = new FakeClock(1000);
  const scheduler = createScheduler({ clock });
  const transport = new FakeTransport(clock);
  const sender = createRtpSender({
    transport,
    scheduler,
    ssrc: 1111,
    payloadType: 111,
    roomBitrate: 96000,
    sequencer: RtpSequencer.fixed(100, 5000),
    progressIntervalMs: 0,
    ...extra,
  });
  return { clock, scheduler, transport, sender };
}

describe('RtpSender on a fake clock', () => {
  it('paces frames exactly 20 ms apart with contiguous sequence numbers and timestamps, then 5 silence frames', async () => {
    const { clock, transport, sender } = setup();
    await sender.start();
    const p = sender.play(frames(50));
    await clock.advanceAsync(2000);
    expect(await p).toEqual({ reason: 'finished' });
    const rtp = transport.rtp().map((s) => ({ ...decodeRtpPacket(s.bytes), time: s.time }));
    expect(rtp).toHaveLength(55);
    rtp.forEach((r, i) => {
      expect(r.sequenceNumber).toBe(100 + i);
      expect(r.timestamp).toBe(5000 + 960 * i);
      expect(r.ssrc).toBe(1111);
      expect(r.payloadType).toBe(111);
      expect(r.marker).toBe(i === 0);
      expect(r.time - (rtp[0]?.time ?? 0)).toBeCloseTo(20 * i, 6);
    });
    expect(Array.from(rtp[54]?.payload ?? [])).toEqual([0xf8, 0xff, 0xfe]);
    const st = sender.stats();
    expect(st.packetsSent).toBe(55);
    expect(st.silenceFramesSent).toBe(5);
    expect(st.bytes.payload).toBe(50 * 100 + 5 * 3);
    expect(st.bytes.rtp).toBe(st.bytes.payload + 55 * 12);
    expect(st.bytes.ip).toBe(st.bytes.rtp + 55 * 28);
    expect(st.lateness.maxMs).toBe(0);
    expect(st.stalls).toBe(0);
    await sender.close();
  });

  it('sends SR + SDES(CNAME) with the first packet, an SR every 5 s, and SR + SDES + BYE on close', async () => {
    const { clock, transport, sender } = setup({ rtcp: { cname: 'bot@kook' } });
    await sender.start();
    void sender.play(endless());
    await clock.advanceAsync(16_000);
    await sender.close();
    const all = transport.sent;
    expect(all[0]?.kind).toBe('rtp');
    expect(all[1]?.kind).toBe('rtcp');
    const rtcp = transport.rtcp();
    expect(rtcp.map((s) => s.time - (rtcp[0]?.time ?? 0))).toEqual([0, 5000, 10000, 15000, 16000]);
    const first = decodeCompound(rtcp[0]?.bytes ?? new Uint8Array());
    expect(first.map((p) => p.type)).toEqual(['sr', 'sdes']);
    const sdes = first[1];
    expect(sdes?.type === 'sdes' && sdes.chunks[0]?.items[0]).toEqual({ type: 1, text: 'bot@kook' });
    const last = decodeCompound(rtcp[4]?.bytes ?? new Uint8Array());
    expect(last.map((p) => p.type)).toEqual(['sr', 'sdes', 'bye']);
    // The SR at 10 s: counts are exact and the NTP/RTP pair describes the same instant.
    const sr = decodeCompound(rtcp[2]?.bytes ?? new Uint8Array())[0];
    if (sr?.type !== 'sr') throw new Error('expected SR');
    const srIndex = transport.sent.indexOf(rtcp[2] as (typeof transport.sent)[number]);
    const rtpBefore = transport.sent.slice(0, srIndex).filter((s) => s.kind === 'rtp');
    expect(sr.packetCount).toBe(rtpBefore.length);
    expect(sr.octetCount).toBe(rtpBefore.length * 100);
    const firstRtp = decodeRtpPacket(transport.rtp()[0]?.bytes ?? new Uint8Array());
    const elapsedMs = (rtcp[2]?.time ?? 0) - (transport.rtp()[0]?.time ?? 0);
    expect(elapsedMs).toBe(10_000);
    expect(sr.rtpTimestamp).toBe((firstRtp.timestamp + elapsedMs * 48) >>> 0);
    expect(ntpToUnixMs(sr.ntpTimestamp)).toBeCloseTo(clock.wallNow() - (clock.now() - (rtcp[2]?.time ?? 0)), 0);
  });

  it('pulls an async source in batches: refilled only once pullBatch frames have left a full lookahead queue', async () => {
    const { clock, transport, sender } = setup({ lookahead: 8, pullBatch: 4 });
    const pulledAt: number[] = [];
    async function* counted(): AsyncGenerator<OpusFrame> {
      for (const f of frames(40)) {
        await Promise.resolve();
        pulledAt.push(transport.rtp().length);
        yield f;
      }
    }
    await sender.start();
    const p = sender.play(counted());
    await clock.advanceAsync(2000);
    expect(await p).toEqual({ reason: 'finished' });
    expect(transport.rtp()).toHaveLength(45);
    // Pulls happen in runs: the first fill (8 or 9, the first frame leaves at once), then 4 at a time.
    const runs = new Map<number, number>();
    for (const sent of pulledAt) runs.set(sent, (runs.get(sent) ?? 0) + 1);
    const sizes = [...runs.values()];
    expect(sizes[0]).toBeGreaterThanOrEqual(8);
    for (const n of sizes.slice(1, -1)) expect(n).toBe(4);
    expect(sender.stats().underruns).toBe(0);
  });

  it('runs three hours of stream through the 16-bit sequence wrap (and a timestamp wrap) without drift', async () => {
    const { clock, transport, sender } = setup({ sequencer: RtpSequencer.fixed(65000, 0xffffffff - 960 * 10) });
    let prev: { seq: number; ts: number; time: number } | undefined;
    let checked = 0;
    let bad = 0;
    transport.keep = (s) => {
      if (s.kind !== 'rtp') return false;
      const p = decodeRtpPacket(s.bytes);
      if (prev !== undefined) {
        if (p.sequenceNumber !== ((prev.seq + 1) & 0xffff)) bad++;
        if (p.timestamp !== ((prev.ts + 960) >>> 0)) bad++;
        if (Math.abs(s.time - prev.time - 20) > 1e-6) bad++;
      }
      prev = { seq: p.sequenceNumber, ts: p.timestamp, time: s.time };
      checked++;
      return false;
    };
    await sender.start();
    void sender.play(endless());
    const start = clock.now();
    for (let h = 0; h < 3 * 60; h++) clock.advance(60_000); // sync source: no promise turns needed
    const st = sender.stats();
    expect(bad).toBe(0);
    expect(checked).toBe(3 * 3600 * 50 + 1);
    expect(st.rollovers).toBeGreaterThanOrEqual(8);
    expect(st.lateness.maxMs).toBe(0);
    // Absolute schedule: the last packet is exactly where 540 000 x 20 ms puts it.
    expect((prev?.time ?? 0) - start).toBeCloseTo(3 * 3600 * 1000, 6);
    await sender.close();
  });

  it('after a 500 ms stall sends one packet, not a burst, and keeps timestamps contiguous', async () => {
    const { clock, transport, sender } = setup();
    const stalls: StallEvent[] = [];
    sender.on('stall', (e) => stalls.push(e));
    await sender.start();
    void sender.play(endless());
    clock.advance(1000);
    const before = transport.rtpCount;
    // A blocked event loop: time moves 500 ms while no timer fires.
    clock.jump(500);
    clock.advance(0);
    clock.advance(200);
    const rtp = transport.rtp().slice(before - 1).map((s) => ({ ...decodeRtpPacket(s.bytes), time: s.time }));
    // Gaps: 500+ ms once, then 20 ms again: never two packets at the same instant.
    for (let i = 1; i < rtp.length; i++) {
      const dt = (rtp[i]?.time ?? 0) - (rtp[i - 1]?.time ?? 0);
      expect(dt).toBeGreaterThanOrEqual(20 - 1e-6);
      expect(rtp[i]?.timestamp).toBe(((rtp[i - 1]?.timestamp ?? 0) + 960) >>> 0);
    }
    expect(stalls).toHaveLength(1);
    expect(stalls[0]?.lateMs).toBe(480); // due 20 ms into the 500 ms stall
    expect(sender.stats().stalls).toBe(1);
    expect(sender.stats().lateness.maxMs).toBe(480);
    await sender.close();
  });

  it('advances the timestamp by the real time paused, sets the marker on resume, and sends silence on pause', async () => {
    const { clock, transport, sender } = setup();
    await sender.start();
    void sender.play(endless());
    clock.advance(100); // 6 packets at 0..100
    sender.pause();
    clock.advance(1000);
    const pausedCount = transport.rtpCount;
    clock.advance(1000);
    expect(transport.rtpCount).toBe(pausedCount); // nothing while paused
    sender.resume();
    clock.advance(100);
    const rtp = transport.rtp().map((s) => ({ ...decodeRtpPacket(s.bytes), time: s.time }));
    const silence = rtp.filter((r) => r.payload.length === 3);
    expect(silence).toHaveLength(5);
    const i = rtp.findIndex((r, k) => k > 0 && r.marker);
    const last = rtp[i - 1];
    const resumed = rtp[i];
    if (last === undefined || resumed === undefined) throw new Error('no resume packet');
    expect(last.payload.length).toBe(3);
    // ts advanced by the last frame's 960 plus the real time between when the next packet was due and the resume.
    const due = last.time + 20;
    expect(resumed.timestamp).toBe((last.timestamp + 960 + Math.round((resumed.time - due) * 48)) >>> 0);
    expect(resumed.sequenceNumber).toBe((last.sequenceNumber + 1) & 0xffff);
    expect(resumed.time - last.time).toBe(1900); // last silence frame at 200 ms, resume at 2100 ms
    await sender.close();
  });

  it('continues sequence numbers and timestamps across plays, with the marker and real-time timestamp gap', async () => {
    const { clock, transport, sender } = setup({ silenceFrames: 0 });
    await sender.start();
    const a = sender.play(asyncFrames(frames(10)));
    await clock.advanceAsync(500);
    expect(await a).toEqual({ reason: 'finished' });
    await clock.advanceAsync(730);
    const b = sender.play(asyncFrames(frames(10)));
    await clock.advanceAsync(500);
    expect(await b).toEqual({ reason: 'finished' });
    const rtp = transport.rtp().map((s) => ({ ...decodeRtpPacket(s.bytes), time: s.time }));
    expect(rtp).toHaveLength(20);
    expect(rtp.map((r) => r.sequenceNumber)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(rtp.filter((r) => r.marker).map((r) => r.sequenceNumber)).toEqual([100, 110]);
    const [l, f] = [rtp[9], rtp[10]];
    if (l === undefined || f === undefined) throw new Error('missing');
    expect(f.timestamp - l.timestamp).toBe(960 + Math.round((f.time - (l.time + 20)) * 48));
    expect(f.time - l.time).toBeGreaterThan(700);
    await sender.close();
  });

  it('delays (never drops) a VBR overshoot so that no 1 s window passes the limit, and advises a lower bitrate', async () => {
    // 32 kbit/s room = 4000 B/s; frames of 150 B + 12 B header at 50/s = 8100 B/s: twice the limit.
    const { clock, transport, sender } = setup({ roomBitrate: 32000, silenceFrames: 0 });
    const advice: BitrateAdviceEvent[] = [];
    sender.on('bitrateAdvice', (e) => advice.push(e));
    await sender.start();
    const list = frames(100, 150);
    const p = sender.play(list);
    await clock.advanceAsync(6000);
    expect(await p).toEqual({ reason: 'finished' });
    const rtp = transport.rtp();
    expect(rtp).toHaveLength(100); // nothing dropped
    rtp.forEach((s, i) => expect(decodeRtpPacket(s.bytes).timestamp).toBe(5000 + 960 * i)); // media-correct
    for (let j = 0; j < rtp.length; j++) {
      const end = rtp[j]?.time ?? 0;
      const bytes = rtp.filter((s) => s.time >= end - 1000 && s.time <= end).reduce((a, s) => a + s.bytes.length, 0);
      expect(bytes).toBeLessThanOrEqual(4000);
    }
    expect(advice[0]?.reason).toBe('backlog');
    expect(advice[0]?.bps).toBeLessThan(32000);
    expect(sender.stats().guard?.delayedPackets).toBeGreaterThan(0);
    expect(sender.stats().guard?.maxWindowBytes).toBeLessThanOrEqual(4000);
    await sender.close();
  });

  it('restores the advised bitrate once the backlog drains', async () => {
    const { clock, sender } = setup({ roomBitrate: 32000, silenceFrames: 0 });
    const advice: BitrateAdviceEvent[] = [];
    sender.on('bitrateAdvice', (e) => advice.push(e));
    await sender.start();
    // 40 big frames (overshoot), then many small ones the guard lets through on time.
    const list = [...frames(40, 150), ...frames(400, 20)];
    void sender.play(list);
    await clock.advanceAsync(12_000);
    expect(advice.map((a) => a.reason)).toEqual(['backlog', 'drained']);
    expect(advice[1]?.bps).toBeGreaterThan(advice[0]?.bps ?? Infinity);
    expect(sender.stats().guard?.backlogMs).toBe(0);
    await sender.close();
  });

  it('counts an underrun when the source is slower than real time, and resumes with a marker', async () => {
    const { clock, transport, sender } = setup({ silenceFrames: 0 });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slow(): AsyncGenerator<OpusFrame> {
      yield* frames(3);
      await gate;
      yield* frames(3);
    }
    await sender.start();
    const p = sender.play(slow());
    await clock.advanceAsync(300);
    expect(sender.stats().underruns).toBe(1);
    release();
    await clock.advanceAsync(300);
    expect(await p).toEqual({ reason: 'finished' });
    const rtp = transport.rtp().map((s) => decodeRtpPacket(s.bytes));
    expect(rtp).toHaveLength(6);
    expect(rtp.map((r) => r.marker)).toEqual([true, false, false, true, false, false]);
    await sender.close();
  });

  it('resolves aborted on signal, error when the iterable throws (after sending what came before), closed on close', async () => {
    const { clock, transport, sender } = setup({ silenceFrames: 2 });
    await sender.start();
    const ac = new AbortController();
    const a = sender.play(endless(), { signal: ac.signal });
    clock.advance(100);
    ac.abort();
    expect(await a).toEqual({ reason: 'aborted' });
    clock.advance(100);
    const afterAbort = transport.rtp().slice(-2).map((s) => decodeRtpPacket(s.bytes).payload.length);
    expect(afterAbort).toEqual([3, 3]); // two silence frames close the talkspurt
    const boom = new Error('decoder failed');
    function* failing(): Generator<OpusFrame> {
      yield* frames(3);
      throw boom;
    }
    const b = sender.play(failing());
    clock.advance(500);
    expect(await b).toEqual({ reason: 'error', error: boom });
    const c = sender.play(endless());
    await expect(sender.play(endless())).rejects.toMatchObject({ code: 'SENDER_BUSY' });
    clock.advance(100);
    await sender.close();
    expect(await c).toEqual({ reason: 'closed' });
    expect(await sender.play(endless())).toEqual({ reason: 'closed' });
    expect(transport.closed).toBe(true);
  });

  it('rejects invalid frames with reason error and a typed code', async () => {
    const { clock, sender } = setup();
    const p = sender.play([{ data: new Uint8Array(0), samples: 960 }]);
    await clock.advanceAsync(200);
    const r = await p;
    expect(r.reason).toBe('error');
    expect(r.error).toMatchObject({ code: 'INVALID_ARGUMENT' });
    await sender.close();
  });

  it('reports the far end RR with fraction lost, jitter and round-trip time', async () => {
    const { clock, transport, sender } = setup();
    const reports: unknown[] = [];
    sender.on('remoteReport', (r) => reports.push(r));
    await sender.start();
    void sender.play(endless());
    clock.advance(100);
    const sr = decodeCompound(transport.rtcp()[0]?.bytes ?? new Uint8Array())[0];
    if (sr?.type !== 'sr') throw new Error('no SR');
    const { encodeCompound } = await import('../../src/wire/rtcp/compound.js');
    const { ntpMiddle32, dlsrFromMs } = await import('../../src/wire/ntp.js');
    // The far end got the SR 30 ms after it was sent, held it 50 ms, and its RR arrives 30 ms later: RTT 60 ms.
    clock.advance(10);
    const rr = encodeCompound(
      [
        {
          type: 'rr',
          ssrc: 4242,
          reports: [
            { ssrc: 1111, fractionLost: 64, cumulativeLost: 3, highestSequence: 104, jitter: 96, lastSenderReport: ntpMiddle32(sr.ntpTimestamp), delaySinceLastSenderReport: dlsrFromMs(50) },
          ],
        },
        { type: 'sdes', chunks: [{ source: 4242, items: [{ type: 1, text: 'server' }] }] },
      ],
    );
    // SR was sent at t=1000 (+0); now is 1110: A - LSR - DLSR = 110 - 50 = 60.
    transport.deliverRtcp(rr);
    expect(reports).toHaveLength(1);
    const r = sender.stats().remote;
    expect(r?.fractionLost).toBe(0.25);
    expect(r?.cumulativeLost).toBe(3);
    expect(r?.jitterMs).toBe(2);
    expect(r?.rttMs).toBeCloseTo(60, 0);
    transport.deliverRtcp(new Uint8Array([0x80, 0xc9, 0x00])); // garbage: counted, not thrown
    expect(sender.stats().rtcp.malformed).toBe(1);
    await sender.close();
  });

  it('emits progress every second with the stats, and never dies from a throwing listener', async () => {
    const { clock, sender } = setup({ progressIntervalMs: 1000 });
    const seen: number[] = [];
    sender.on('progress', (e) => {
      seen.push(e.stats.packetsSent);
      throw new Error('listener bug');
    });
    // The listener's throws are reported as process warnings: expected here, a failure anywhere else.
    expectWarnings('KOOK_RTP_SENDER');
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(w.message);
    process.on('warning', onWarning);
    await sender.start();
    void sender.play(endless());
    await clock.advanceAsync(3000);
    await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
    process.off('warning', onWarning);
    expect(warnings).toEqual(Array(3).fill("kook-rtp: a 'progress' listener threw: listener bug"));
    expect(seen).toHaveLength(3);
    expect(seen[2]).toBeGreaterThan(seen[0] ?? Infinity);
    expect(sender.stats().packetsSent).toBeGreaterThan(140); // pacing went on
    await sender.close();
  });

  it('calls onPacket for every RTP and RTCP datagram', async () => {
    const calls: Array<[string, number]> = [];
    const { clock, transport, sender } = setup({ onPacket: (b, kind, t) => calls.push([kind, t]) });
    void sender.play(frames(10));
    await clock.advanceAsync(1000);
    await sender.close();
    expect(calls.map((c) => c[0])).toEqual(transport.sent.map((s) => s.kind));
    expect(calls.map((c) => c[1])).toEqual(transport.sent.map((s) => s.time));
  });
});

