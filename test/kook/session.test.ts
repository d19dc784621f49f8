import { createSocket } from 'node:dgram';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startKookEmulator, type KookEmulator } from '../../src/emulator/kook/emulator.js';
import { createVoiceSession, type VoiceSession } from '../../src/kook/session.js';

const F = (name: string): string => new URL(`../../fixtures/media/${name}`, import.meta.url).pathname;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  vi.useRealTimers();
  while (cleanups.length > 0) await cleanups.pop()?.();
});

async function setup(
  emulatorOptions: Parameters<typeof startKookEmulator>[0] = {},
  sessionOptions: Partial<Parameters<typeof createVoiceSession>[0]> = {},
): Promise<{ emulator: KookEmulator; session: VoiceSession }> {
  const emulator = await startKookEmulator(emulatorOptions);
  cleanups.push(() => emulator.close());
  const session = createVoiceSession({ token: emulator.token, apiBase: emulator.apiBase, channelId: '1001', ...sessionOptions });
  cleanups.push(() => session.leave());
  return { emulator, session };
}

describe('VoiceSession against the KOOK emulator', () => {
  it('plays a three-format playlist as one stream: one bind, one SSRC, no loss, nothing dropped', async () => {
    const { emulator, session } = await setup({}, { audioSsrc: 5555 });
    const join = await session.join();
    expect(join.audioSsrc).toBe(5555);
    const p = session.player;
    const items = [
      p.enqueue(F('sine-s16-44k.wav')),
      p.enqueue(F('sine-vorbis.ogg'), { seek: 2 }),
      p.enqueue(F('sine-24bit-96k.flac'), { seek: 0.5 }),
    ];
    const ends = await Promise.all(items.map((i) => i.done));
    expect(ends.map((e) => e.reason)).toEqual(['finished', 'finished', 'finished']);
    const sent = session.sender!.stats().packetsSent;
    await session.leave();
    const [report] = emulator.reports();
    expect(report).toBeDefined();
    expect(report!.ssrc).toBe(5555);
    expect(report!.packets).toBe(sent);
    expect(report!.lost).toBe(0);
    expect(report!.outOfOrder).toBe(0);
    expect(report!.droppedFromOtherSources).toBe(0);
    expect(report!.ssrcMismatches).toBe(0);
    expect(report!.ptMismatches).toBe(0);
    expect(report!.kicked).toBeUndefined();
    expect(report!.closeReason).toBe('leave');
    expect(report!.rtcp.byes).toBe(1);
    expect(report!.rtcp.cname).toBeTruthy();
    expect(report!.levelDbfs).toBeGreaterThan(-40);
    // leave released the channel
    expect(emulator.channel('1001').stream).toBeUndefined();
  });

  it('calls keep-alive every 45 s while joined', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const { emulator, session } = await setup();
    await session.join();
    const alive: number[] = [];
    session.on('keepAlive', () => alive.push(1));
    const keepAlives = (): number => emulator.requests().filter((r) => r.path.endsWith('/voice/keep-alive')).length;
    vi.advanceTimersByTime(44_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(keepAlives()).toBe(0);
    vi.advanceTimersByTime(1_000);
    await vi.waitFor(() => expect(alive.length).toBe(1), { timeout: 5000 });
    vi.advanceTimersByTime(90_000);
    await vi.waitFor(() => expect(alive.length).toBe(3), { timeout: 5000 });
    expect(keepAlives()).toBe(3);
    await session.leave();
    vi.advanceTimersByTime(90_000);
    await new Promise((r) => setTimeout(r, 100));
    expect(keepAlives()).toBe(3);
  });

  it('a high-bitrate passthrough with the guard disabled IS kicked; with the guard on it is not', async () => {
    // A 128 kbps Ogg/Opus sent unchanged into a 48 kbps room: 2.7x the limit.
    const kicked = await setup({}, { sender: { guard: { enabled: false } }, unreachableAfter: 1 });
    await kicked.session.join();
    const closed = new Promise<{ reason: string }>((r) => kicked.session.once('streamClosed', r));
    const item = kicked.session.player.enqueue(F('sine-opus-128k.ogg'), { track: { passthrough: 'always' } });
    expect((await closed).reason).toBe('unreachable');
    expect((await item.done).reason).toBe('stopped');
    const [r1] = kicked.emulator.reports();
    expect(r1!.kicked?.reason).toBe('bitrate');
    expect(r1!.kicked!.windowBitrate).toBeGreaterThan(48000 * 1.2);

    const guarded = await setup();
    await guarded.session.join();
    const ok = guarded.session.player.enqueue(F('sine-opus-128k.ogg'), { seek: 2.6, track: { passthrough: 'always' } });
    expect((await ok.done).reason).toBe('finished');
    await guarded.session.leave();
    const [r2] = guarded.emulator.reports();
    expect(r2!.kicked).toBeUndefined();
    expect(r2!.maxBitrate1s).toBeLessThanOrEqual(48000 * 1.2);
    expect(r2!.lost).toBe(0); // delayed, never dropped
  });

  it('joins again after a kick and continues the queue on a new socket', async () => {
    const { emulator, session } = await setup({}, { sender: { guard: { enabled: false } }, unreachableAfter: 1, rejoin: { maxAttempts: 1 } });
    await session.join();
    const rejoined = new Promise((r) => session.once('rejoined', r));
    const firstSender = session.sender;
    session.player.enqueue(F('sine-opus-128k.ogg'), { track: { passthrough: 'always' } });
    const next = session.player.enqueue(F('sine-s16-44k.wav'));
    await rejoined;
    expect(session.sender).not.toBe(firstSender);
    await next.done;
    await session.leave();
    const reports = emulator.reports();
    expect(reports.length).toBe(2);
    expect(reports[0]!.kicked).toBeDefined();
    expect(reports[1]!.packets).toBeGreaterThan(0);
    expect(reports[1]!.source).not.toBe(reports[0]!.source);
  });

  it('the emulator drops packets from a second socket (the address is bound to the first sender)', async () => {
    const { emulator, session } = await setup();
    const join = await session.join();
    const item = session.player.enqueue(F('sine-opus-48k.ogg'), { seek: 2.5 });
    const intruder = createSocket('udp4');
    await new Promise((r) => setTimeout(r, 200));
    const pkt = Buffer.from('80ef0001000000010000045700', 'hex');
    for (let i = 0; i < 5; i++) intruder.send(pkt, join.port, join.ip);
    await item.done;
    await new Promise((r) => setTimeout(r, 50));
    intruder.close();
    await session.leave();
    const [report] = emulator.reports();
    expect(report!.droppedFromOtherSources).toBe(5);
    expect(report!.lost).toBe(0);
  });

  it('gives the address back (voice/leave) when the sender cannot be opened on it', async () => {
    // A host name that cannot resolve: the UDP connect fails before any packet is sent.
    const { emulator, session } = await setup({ mediaHost: 'kook-media.invalid' });
    await expect(session.join()).rejects.toMatchObject({ code: expect.any(String) });
    expect(emulator.requests().map((r) => r.path.replace(/^.*\/voice\//, ''))).toEqual(['join', 'leave']);
    expect(emulator.channel('1001').stream).toBeUndefined();
  });

  it('needs a token or a client', () => {
    expect(() => createVoiceSession({ channelId: '1' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
