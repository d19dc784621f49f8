import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startKookEmulator, type KookEmulator, type KookEmulatorOptions } from '../../../src/emulator/kook/emulator.js';
import { createKookClient, type KookVoiceJoin } from '../../../src/kook/client.js';
import { dlsrFromMs, ntpMiddle32, unixMsToNtp } from '../../../src/wire/ntp.js';
import { decodeCompound, encodeCompound, type RtcpPacket } from '../../../src/wire/rtcp/compound.js';
import { openSocket, opusSine, rtp, sleep, type TestSocket } from './sender.js';

let emulators: KookEmulator[] = [];
let sockets: TestSocket[] = [];
let dirs: string[] = [];

afterEach(async () => {
  for (const s of sockets) s.close();
  await Promise.all(emulators.map((e) => e.close()));
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  emulators = [];
  sockets = [];
  dirs = [];
});

async function setup(
  options: KookEmulatorOptions = {},
  join: { channelId?: string; rtcpMux?: boolean } = {},
): Promise<{ e: KookEmulator; target: KookVoiceJoin; kook: ReturnType<typeof createKookClient>; channelId: string }> {
  const e = await startKookEmulator(options);
  emulators.push(e);
  const kook = createKookClient({ token: e.token, apiBase: e.apiBase });
  const channelId = join.channelId ?? '1001';
  const target = await kook.join({ channelId, ...(join.rtcpMux === undefined ? {} : { rtcpMux: join.rtcpMux }) });
  return { e, target, kook, channelId };
}

async function socket(): Promise<TestSocket> {
  const s = await openSocket();
  sockets.push(s);
  return s;
}

/** Lets the emulator's socket drain what loopback already delivered. */
const settle = (): Promise<void> => sleep(60);

const PAYLOAD = new Uint8Array(100).fill(0xfc); // content irrelevant where decodeAudio is off

function srCompound(ssrc: number, ntpMs: number, packetCount: number, octetCount: number, cname = 'bot@test'): Uint8Array {
  return encodeCompound([
    { type: 'sr', ssrc, ntpTimestamp: unixMsToNtp(ntpMs), rtpTimestamp: 0, packetCount, octetCount, reports: [] },
    { type: 'sdes', chunks: [{ source: ssrc, items: [{ type: 1, text: cname }] }] },
  ]);
}

describe('emulated media endpoint', () => {
  it('binds to the first source and drops (and counts) a second one', async () => {
    const { e, target, channelId } = await setup({ decodeAudio: false });
    const first = await socket();
    const second = await socket();
    for (let i = 0; i < 5; i++) await first.send(rtp(i, PAYLOAD), target.port);
    for (let i = 5; i < 8; i++) await second.send(rtp(i, PAYLOAD), target.port);
    await first.send(rtp(8, PAYLOAD), target.port);
    await settle();
    const report = e.channel(channelId).stream!;
    expect(report.source).toBe(`127.0.0.1:${first.socket.address().port}`);
    expect(report.packets).toBe(6);
    expect(report.droppedFromOtherSources).toBe(3);
  });

  it('kicks a stream over 120% of the bitrate within one second', async () => {
    const { e, target, channelId, kook } = await setup({ decodeAudio: false, bitrate: 48_000 });
    const kicked = e.waitFor('kicked');
    const s = await socket();
    const big = new Uint8Array(200);
    // 212 bytes per packet: the 34th packet inside one second passes 57 600 bit/s.
    for (let i = 0; i < 60; i++) await s.send(rtp(i, big), target.port);
    const { report } = await kicked;
    expect(report.closeReason).toBe('kicked');
    expect(report.kicked?.reason).toBe('bitrate');
    expect(report.kicked?.limit).toBe(57_600);
    expect(report.kicked?.windowBitrate).toBeGreaterThan(57_600);
    // On an idle machine the 34th packet is the one; a stalled sender can only spread them out (more packets).
    expect(report.packets).toBeGreaterThanOrEqual(34);
    expect(report.packets).toBeLessThan(60);
    await s.send(rtp(60, big), target.port);
    await settle();
    expect(e.channel(channelId).reports()[0]?.packets).toBe(report.packets);
    expect(await kook.list()).toEqual([]);
    expect(e.channel(channelId).stream).toBeUndefined();
    expect(e.channel(channelId).reports()[0]?.kicked).toEqual(report.kicked);
  });

  it('does not kick a paced stream of real Opus under the limit', async () => {
    const { e, target, channelId } = await setup({ bitrate: 48_000 });
    const frames = opusSine(60, 0.3, 440, 32_000);
    const s = await socket();
    const start = performance.now();
    for (let i = 0; i < frames.length; i++) {
      const due = start + i * 20;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      await s.send(rtp(i, frames[i]!, { marker: i === 0 }), target.port);
    }
    await settle();
    const report = e.channel(channelId).stream!;
    expect(report.kicked).toBeUndefined();
    expect(report.closeReason).toBeNull();
    expect(report.packets).toBe(60);
    expect(report.markerPackets).toBe(1);
    expect(report.maxBitrate1s).toBeGreaterThan(20_000);
    expect(report.maxBitrate1s).toBeLessThanOrEqual(57_600);
    expect(report.meanBitrate).toBeGreaterThan(20_000);
    expect(report.decodedFrames).toBe(60);
  });

  it('reclaims an idle address, but not one kept alive', async () => {
    const idle = await setup({ decodeAudio: false, idleReclaimMs: 300 });
    const reclaimed = idle.e.waitFor('reclaimed', undefined, 5000);
    const s = await socket();
    await s.send(rtp(0, PAYLOAD), idle.target.port);
    const { report } = await reclaimed;
    expect(report.closeReason).toBe('reclaimed');
    expect(report.reclaimed?.reason).toBe('idle');
    expect(report.reclaimed?.idleMs).toBeGreaterThanOrEqual(290);
    expect(await idle.kook.list()).toEqual([]);
    await expect(idle.kook.keepAlive(idle.channelId)).rejects.toMatchObject({ code: 'KOOK_API', apiCode: 40000 });

    const kept = await setup({ decodeAudio: false, idleReclaimMs: 400 });
    let reclaims = 0;
    kept.e.on('reclaimed', () => reclaims++);
    for (let i = 0; i < 12; i++) {
      await kept.kook.keepAlive(kept.channelId);
      await sleep(100);
    }
    expect(reclaims).toBe(0);
    const live = kept.e.channel(kept.channelId).stream!;
    expect(live.closeReason).toBeNull();
    expect(live.keepAlives).toBe(12);
  });

  it('answers an SR with RR + SDES on the muxed port, with loss and LSR/DLSR', async () => {
    const { e, target, channelId } = await setup({ decodeAudio: false });
    const s = await socket();
    for (let i = 0; i < 20; i++) if (i !== 7 && i !== 8) await s.send(rtp(i, PAYLOAD), target.port);
    await settle();
    const ntpMs = Date.now();
    await s.send(srCompound(target.audioSsrc, ntpMs, 18, 1800), target.port);
    const answer = decodeCompound(await s.next());
    const rr = answer[0] as Extract<RtcpPacket, { type: 'rr' }>;
    expect(rr.type).toBe('rr');
    expect(answer[1]?.type).toBe('sdes');
    const block = rr.reports[0]!;
    expect(block.ssrc).toBe(target.audioSsrc);
    expect(block.cumulativeLost).toBe(2);
    expect(block.fractionLost).toBeGreaterThan(0);
    expect(block.lastSenderReport).toBe(ntpMiddle32(unixMsToNtp(ntpMs)));
    expect(block.delaySinceLastSenderReport).toBeLessThan(dlsrFromMs(1000));
    const report = e.channel(channelId).stream!;
    expect(report.rtcp).toMatchObject({ srs: 1, sdes: 1, cname: 'bot@test', rrsSent: 1 });
    expect(report.lost).toBe(2);
  });

  it('answers on the RTCP port when not muxed, and ignores RTCP sent to the RTP port', async () => {
    const { e, target, channelId } = await setup({ decodeAudio: false }, { rtcpMux: false });
    expect(target.rtcpPort).not.toBe(target.port);
    const media = await socket();
    const control = await socket();
    for (let i = 0; i < 10; i++) await media.send(rtp(i, PAYLOAD), target.port);
    await control.send(srCompound(target.audioSsrc, Date.now(), 10, 1000), target.rtcpPort);
    const answer = decodeCompound(await control.next());
    expect(answer.map((p) => p.type)).toEqual(['rr', 'sdes']);
    await media.send(srCompound(target.audioSsrc, Date.now(), 10, 1000), target.port);
    await settle();
    expect(media.received).toHaveLength(0);
    const report = e.channel(channelId).stream!;
    expect(report.rtcp.onWrongPort).toBe(1);
    expect(report.rtcpSource).toBe(`127.0.0.1:${control.socket.address().port}`);
  });

  it('counts SSRC and payload-type mismatches and records the values', async () => {
    const { e, target, channelId } = await setup({ decodeAudio: false });
    const s = await socket();
    for (let i = 0; i < 4; i++) await s.send(rtp(i, PAYLOAD), target.port);
    await s.send(rtp(4, PAYLOAD, { ssrc: 2222 }), target.port);
    await s.send(rtp(5, PAYLOAD, { ssrc: 2222 }), target.port);
    await s.send(rtp(6, PAYLOAD, { pt: 100 }), target.port);
    await settle();
    const r = e.channel(channelId).stream!;
    expect(r).toMatchObject({ packets: 7, validPackets: 4, ssrcMismatches: 2, ptMismatches: 1, mismatchedSsrcs: [2222], mismatchedPts: [100] });
  });

  it('reports loss, reordering and duplicates from the sequence numbers, and BYE', async () => {
    const { e, target, channelId } = await setup({ decodeAudio: false });
    const s = await socket();
    // 10 and 20 never sent, 11 late, 5 twice.
    const order = [...range(0, 10), ...range(12, 20), 11, ...range(21, 30), 5];
    for (const seq of order) await s.send(rtp(seq, PAYLOAD), target.port);
    const bye = e.waitFor('bye');
    await s.send(encodeCompound([
      { type: 'rr', ssrc: target.audioSsrc, reports: [] },
      { type: 'sdes', chunks: [{ source: target.audioSsrc, items: [{ type: 1, text: 'bot@test' }] }] },
      { type: 'bye', sources: [target.audioSsrc], reason: 'done' },
    ]), target.port);
    expect((await bye).reason).toBe('done');
    const r = e.channel(channelId).stream!;
    expect(r).toMatchObject({ packets: 29, expected: 30, lost: 2, outOfOrder: 1, duplicates: 1 });
    expect(r.rtcp).toMatchObject({ byes: 1, byeReason: 'done', rrs: 1 });
    expect(r.jitterMs).toBeGreaterThanOrEqual(0);
  });

  it('measures the level of a known sine within 1 dB and writes a WAV', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'kook-emu-'));
    dirs.push(dir);
    const { e, target, channelId, kook } = await setup({ bitrate: 256_000, wavDir: dir });
    const amplitude = 0.5;
    const frames = opusSine(100, amplitude, 1000, 96_000);
    const s = await socket();
    for (let i = 0; i < frames.length; i++) await s.send(rtp(i, frames[i]!), target.port);
    await settle();
    const leave = e.waitFor('leave');
    await kook.leave(channelId);
    const { report } = await leave;
    const rms = 20 * Math.log10(amplitude / Math.SQRT2); // -9.03 dBFS
    const peak = 20 * Math.log10(amplitude); // -6.02 dBFS
    expect(report.decodedFrames).toBe(100);
    expect(Math.abs(report.levelDbfs! - rms)).toBeLessThan(1);
    expect(Math.abs(report.peakDbfs! - peak)).toBeLessThan(1);
    expect(report.wavPath).not.toBeNull();
    const wav = await readFile(report.wavPath!);
    expect(wav.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(wav.readUInt32LE(24)).toBe(48_000);
    expect(wav.readUInt16LE(22)).toBe(2);
    expect(wav.readUInt32LE(40)).toBe(100 * 960 * 4);
    expect(wav.length).toBe(44 + 100 * 960 * 4);
  });

  it('stops accepting after leave', async () => {
    const { e, target, channelId, kook } = await setup({ decodeAudio: false });
    const s = await socket();
    await s.send(rtp(0, PAYLOAD), target.port);
    await settle();
    await kook.leave(channelId);
    await s.send(rtp(1, PAYLOAD), target.port);
    await settle();
    const [report] = e.channel(channelId).reports();
    expect(report?.packets).toBe(1);
    expect(report?.closeReason).toBe('leave');
    expect(report?.endedAt).toBeGreaterThanOrEqual(report!.startedAt);
  });
});

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}
