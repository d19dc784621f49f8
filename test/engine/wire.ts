/**
 * Test helpers for the engine: a UDP receiver on its own thread (a blocked test thread cannot delay its arrival
 * times), WAV tones built in memory, and the wire decoded back to PCM.
 */
import { Worker } from 'node:worker_threads';
import { createPlayer, type Player } from '../../src/engine/player.js';
import { createRtpSender } from '../../src/engine/sender.js';
import { createOpusDecoder } from '../../src/media/opus/decoder.js';

export interface Received {
  /** Arrival, epoch ms. */
  readonly at: number[];
  readonly seq: number[];
  readonly ts: number[];
  readonly marker: boolean[];
  readonly head: string[];
  readonly payloads: Uint8Array[];
}

/** A UDP receiver on its own thread, so a blocked test thread cannot delay its arrival times. */
export async function threadReceiver(): Promise<{ port: number; stop(): Promise<Received> }> {
  const w = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const s = require('node:dgram').createSocket('udp4');
     const at = [], seq = [], ts = [], marker = [], head = [], payloads = [];
     s.on('message', (m) => {
       if (m.length < 12 || (m[1] >= 192 && m[1] <= 223)) return;
       // Epoch ms, comparable across threads.
       at.push(performance.timeOrigin + performance.now()); seq.push(m.readUInt16BE(2)); ts.push(m.readUInt32BE(4)); marker.push((m[1] & 0x80) !== 0);
       head.push(m.subarray(12, 40).toString('hex'));
       payloads.push(new Uint8Array(m.subarray(12)));
     });
     s.bind(0, '127.0.0.1', () => parentPort.postMessage({ port: s.address().port }));
     parentPort.on('message', () => { parentPort.postMessage({ at, seq, ts, marker, head, payloads }); s.close(); parentPort.close(); });`,
    { eval: true },
  );
  const port = await new Promise<number>((r) => w.once('message', (m: { port: number }) => r(m.port)));
  return {
    port,
    stop: () =>
      new Promise((r) => {
        w.once('message', r);
        w.postMessage('stop');
      }),
  };
}

/** A 48 kHz stereo 16-bit WAV of tones: each `[freq, amplitude 0..1]` pair summed, for `seconds`. */
export function toneWav(seconds: number, tones: readonly (readonly [number, number])[], rate = 48000): Uint8Array {
  const n = Math.round(rate * seconds);
  const wav = Buffer.alloc(44 + n * 4);
  wav.write('RIFF', 0); wav.writeUInt32LE(36 + n * 4, 4); wav.write('WAVE', 8); wav.write('fmt ', 12);
  wav.writeUInt32LE(16, 16); wav.writeUInt16LE(1, 20); wav.writeUInt16LE(2, 22); wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 4, 28); wav.writeUInt16LE(4, 32); wav.writeUInt16LE(16, 34); wav.write('data', 36); wav.writeUInt32LE(n * 4, 40);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const [f, a] of tones) v += a * Math.sin((2 * Math.PI * f * i) / rate);
    const s = Math.max(-32768, Math.min(32767, Math.round(v * 32767)));
    wav.writeInt16LE(s, 44 + i * 4);
    wav.writeInt16LE(s, 46 + i * 4);
  }
  return new Uint8Array(wav);
}

/** The payloads decoded back to mono float PCM (left channel), one 960-sample frame per packet, in order. */
export function decodeWire(got: Received): Float32Array[] {
  const dec = createOpusDecoder();
  try {
    return got.payloads.map((p) => {
      const pcm = dec.decode(p);
      const out = new Float32Array(pcm.length / 2);
      for (let i = 0; i < out.length; i++) out[i] = (pcm[2 * i] as number) / 32768;
      return out;
    });
  } finally {
    dec.close();
  }
}

/** Level of `freq` in `x` (a Goertzel over the whole block, Hann-windowed), dBFS of a full-scale sine. */
export function toneDb(x: Float32Array, freq: number, rate = 48000): number {
  const n = x.length;
  const k = (2 * Math.PI * freq) / rate;
  const c = 2 * Math.cos(k);
  let s1 = 0;
  let s2 = 0;
  let wsum = 0;
  for (let i = 0; i < n; i++) {
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    wsum += w;
    const s = (x[i] as number) * w + c * s1 - s2;
    s2 = s1;
    s1 = s;
  }
  const re = s1 - s2 * Math.cos(k);
  const im = s2 * Math.sin(k);
  const amp = (2 * Math.sqrt(re * re + im * im)) / wsum;
  return 20 * Math.log10(amp + 1e-12);
}

/** Concatenates frames `from`..`to` (exclusive). */
export function span(frames: readonly Float32Array[], from: number, to: number): Float32Array {
  const parts = frames.slice(Math.max(0, from), Math.max(0, to));
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Options of {@link playerRig}: the player's, plus the sender's `threads` and the room (default 96 kbit/s). */
export type RigOptions = { threads?: boolean; roomBitrate?: number } & Omit<Parameters<typeof createPlayer>[0], 'sender' | 'roomBitrate'>;

/**
 * A player on its own sender to a {@link threadReceiver}; its cleanup (destroy, then stop the receiver) goes on
 * `cleanups`. `stop()` ends the receiving and returns what arrived (once; later calls give the same).
 */
export async function playerRig(cleanups: (() => Promise<unknown> | unknown)[], options: RigOptions = {}): Promise<{ player: Player; stop: () => Promise<Received> }> {
  const rx = await threadReceiver();
  const roomBitrate = options.roomBitrate ?? 96000;
  const sender = createRtpSender({ target: { host: '127.0.0.1', port: rx.port }, roomBitrate, ...(options.threads === undefined ? {} : { threads: options.threads }) });
  const { threads: _t, roomBitrate: _r, ...rest } = options;
  const player = createPlayer({ sender, roomBitrate, ...rest });
  let stopped: Promise<Received> | undefined;
  const stop = (): Promise<Received> => (stopped ??= rx.stop());
  cleanups.push(async () => {
    await player.destroy();
    await stop();
  });
  return { player, stop };
}
