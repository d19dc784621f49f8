/**
 * The pacing core alone, on a fake clock: segments follow each other without a gap, flush and truncate act at the
 * next deadline, packed batches are taken as ranges, pause and resume keep the buffer, and events come as data.
 */
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/pacer/clock.js';
import { FrameQueue } from '../../src/pacer/frameQueue.js';
import { createScheduler } from '../../src/pacer/scheduler.js';
import { PacedStream, type PacerEvent, type PacerFrame } from '../../src/pacer/stream.js';
import { packFrames } from '../../src/util/packedFrames.js';
import { decodeRtpPacket } from '../../src/wire/rtp/packet.js';
import { RtpSequencer } from '../../src/wire/rtp/sequencer.js';
import { FakeTransport } from './fakeTransport.js';

function frames(n: number, fill: number): PacerFrame[] {
  return Array.from({ length: n }, () => ({ data: new Uint8Array(60).fill(fill), samples: 960 }));
}

function setup(silenceFrames = 0) {
  const clock = new FakeClock(1000);
  const scheduler = createScheduler({ clock });
  const transport = new FakeTransport(clock);
  const events: PacerEvent[] = [];
  const spaces: number[] = [];
  const stream = new PacedStream(
    { roomBitrate: 96000, silenceFrames, progressIntervalMs: 0, rtcp: { enabled: false } },
    {
      scheduler,
      transport,
      sequencer: RtpSequencer.fixed(10, 1000),
      refillAt: 2,
      listener: { event: (e) => events.push(e), space: (c) => spaces.push(c) },
    },
  );
  const sent = (): { seq: number; ts: number; marker: boolean; fill: number; time: number }[] =>
    transport.rtp().map((s) => {
      const p = decodeRtpPacket(s.bytes);
      return { seq: p.sequenceNumber, ts: p.timestamp, marker: p.marker, fill: p.payload[0] ?? -1, time: s.time };
    });
  return { clock, stream, events, spaces, sent };
}

describe('PacedStream', () => {
  it('plays segment 2 right after segment 1: contiguous timestamps, one marker, 20 ms apart, start and end events', async () => {
    const { clock, stream, events, sent } = setup();
    stream.push(1, frames(5, 1));
    stream.end(1, false);
    stream.push(2, frames(5, 2));
    stream.end(2, true);
    await clock.advanceAsync(400);
    const rtp = sent();
    expect(rtp.map((p) => p.fill)).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    expect(rtp.map((p) => p.marker)).toEqual([true, false, false, false, false, false, false, false, false, false]);
    rtp.forEach((p, i) => {
      expect(p.ts).toBe(1000 + 960 * i);
      expect(p.time - (rtp[0]?.time ?? 0)).toBeCloseTo(20 * i, 6);
    });
    const kinds = events.filter((e) => e.type === 'segmentStart' || e.type === 'segmentEnd').map((e) => `${e.type} ${'seg' in e ? e.seg : ''}`);
    expect(kinds).toEqual(['segmentStart 1', 'segmentEnd 1', 'segmentStart 2', 'segmentEnd 2']);
    expect(events.find((e) => e.type === 'segmentEnd' && e.seg === 2)).toMatchObject({ reason: 'finished', sent: 5, samples: 4800 });
    await stream.close();
  });

  it('a next segment arriving a little late keeps the timestamps contiguous; one arriving after the stall threshold gets the marker', async () => {
    const { clock, stream, sent } = setup();
    stream.push(1, frames(2, 1));
    stream.end(1, false);
    await clock.advanceAsync(50);
    stream.push(2, frames(2, 2)); // 10 ms after the next deadline would have been
    await clock.advanceAsync(100);
    stream.end(2, false);
    await clock.advanceAsync(200);
    stream.push(3, frames(2, 3)); // long after
    await clock.advanceAsync(100);
    const rtp = sent();
    expect(rtp.map((p) => p.fill)).toEqual([1, 1, 2, 2, 3, 3]);
    expect(rtp.map((p) => p.marker)).toEqual([true, false, false, false, true, false]);
    expect(rtp[2]!.ts - rtp[1]!.ts).toBe(960);
    expect(rtp[4]!.ts - rtp[3]!.ts).toBeGreaterThan(960 * 5);
    await stream.close();
  });

  it('flush drops what is queued of a segment at once and the next segment follows at the next deadline', async () => {
    const { clock, stream, events, sent } = setup();
    stream.push(1, frames(50, 1));
    stream.push(2, frames(3, 2));
    stream.end(2, false);
    await clock.advanceAsync(100); // 5 or 6 frames of segment 1 out
    const before = sent().length;
    stream.flush(1, false);
    expect(events.find((e) => e.type === 'segmentEnd' && e.seg === 1)).toMatchObject({ reason: 'flushed' });
    await clock.advanceAsync(20);
    const rtp = sent();
    expect(rtp[before]?.fill).toBe(2);
    expect(rtp.slice(before).every((p) => p.fill === 2)).toBe(true);
    expect(stream.consumed).toBe(53 - 3 + rtp.slice(before).length);
    await stream.close();
  });

  it('truncate keeps the next frames of a segment, drops the rest and every push of an older epoch, and says where it cut', async () => {
    const { clock, stream, events, sent } = setup();
    stream.push(1, frames(20, 1));
    await clock.advanceAsync(40); // 2 or 3 out
    const sentBefore = sent().length;
    stream.truncate(1, 3, 1);
    const t = events.find((e) => e.type === 'truncated');
    expect(t).toEqual({ type: 'truncated', seg: 1, keptUpTo: sentBefore + 3 });
    stream.push(1, frames(5, 9), 0); // in flight from before the truncate: dropped
    stream.push(1, frames(4, 7), 1); // made again after it
    stream.end(1, false);
    await clock.advanceAsync(500);
    const fills = sent().map((p) => p.fill);
    expect(fills).toEqual([...Array(sentBefore + 3).fill(1), 7, 7, 7, 7]);
    await stream.close();
  });

  it('truncate before a segment has its first frame answers 0 (nothing kept), and drops pushes of the older epoch', async () => {
    const { clock, stream, events, sent } = setup();
    stream.truncate(4, 3, 1);
    expect(events.find((e) => e.type === 'truncated')).toEqual({ type: 'truncated', seg: 4, keptUpTo: 0 });
    stream.push(4, frames(5, 9), 0); // made before the truncate: dropped
    stream.push(4, frames(2, 7), 1);
    stream.end(4, false);
    await clock.advanceAsync(200);
    expect(sent().map((p) => p.fill)).toEqual([7, 7]);
    await stream.close();
  });

  it('takes packed batches as ranges of one buffer', async () => {
    const { clock, stream, sent } = setup();
    const packed = packFrames([...frames(2, 4), ...frames(3, 5), ...frames(1, 6)]);
    stream.pushPacked(1, packed, 2, 3);
    stream.pushPacked(1, packed, 5, 1);
    stream.end(1, false);
    await clock.advanceAsync(200);
    expect(sent().map((p) => p.fill)).toEqual([5, 5, 5, 6]);
    await stream.close();
  });

  it('pause sends the silence frames and keeps the buffer; resume continues it with the marker bit', async () => {
    const { clock, stream, events, sent } = setup(2);
    stream.push(1, frames(10, 1));
    await clock.advanceAsync(60);
    stream.pause();
    await clock.advanceAsync(300);
    const paused = sent();
    expect(paused.slice(-2).every((p) => p.fill === 0xf8)).toBe(true);
    expect(stream.queued).toBeGreaterThan(0);
    const left = stream.queued;
    stream.resume();
    await clock.advanceAsync(400);
    const after = sent().slice(paused.length);
    expect(after.length).toBe(left);
    expect(after[0]?.marker).toBe(true);
    expect(events.some((e) => e.type === 'state' && e.status === 'paused')).toBe(true);
    await stream.close();
  });

  it('signals space once the queue drops to refillAt, and counts frames consumed', async () => {
    const { clock, stream, spaces } = setup();
    stream.push(1, frames(6, 1));
    await clock.advanceAsync(200);
    expect(spaces.length).toBeGreaterThanOrEqual(1);
    expect(spaces[0]).toBe(4);
    expect(stream.consumed).toBe(6);
    await stream.close();
  });
});

describe('FrameQueue', () => {
  it('is a FIFO of ranges that retains in order and compacts', () => {
    const q = new FrameQueue<string>();
    const buf = new Uint8Array([1, 2, 3, 4, 5, 6]);
    for (let i = 0; i < 600; i++) q.push(buf, i % 3, (i % 3) + 2, 960, i % 2 === 0 ? 'a' : 'b');
    for (let i = 0; i < 400; i++) q.shift();
    expect(q.length).toBe(200);
    expect(q.headTag).toBe('a');
    expect(Array.from(q.headPayload())).toEqual([2, 3]);
    expect(q.retain((t) => t === 'a')).toBe(100);
    expect(q.length).toBe(100);
    expect(q.headBytes).toBe(2);
    q.clear();
    expect(q.headTag).toBeUndefined();
  });
});
