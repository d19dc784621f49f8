/**
 * A hand-made RTP/RTCP sender for the emulator tests: a real UDP socket, packets built with the wire encoders, and
 * real Opus frames from libopus (@discordjs/opus).
 */
import { createSocket, type Socket } from 'node:dgram';
import { createRequire } from 'node:module';
import { encodeRtpPacket } from '../../../src/wire/rtp/packet.js';

const require = createRequire(import.meta.url);
const { OpusEncoder } = require('@discordjs/opus') as {
  OpusEncoder: new (rate: number, channels: number) => { encode(pcm: Buffer): Buffer; setBitrate(bps: number): void };
};

/** 20 ms of 48 kHz stereo. */
export const FRAME_SAMPLES = 960;

/** A bound UDP socket that remembers what it received. */
export interface TestSocket {
  readonly socket: Socket;
  readonly received: Buffer[];
  send(bytes: Uint8Array, port: number): Promise<void>;
  /** Resolves with the next datagram (or one already waiting). */
  next(timeoutMs?: number): Promise<Buffer>;
  close(): void;
}

/** Opens a UDP socket on 127.0.0.1. */
export async function openSocket(): Promise<TestSocket> {
  const socket = createSocket('udp4');
  const received: Buffer[] = [];
  let waiter: ((b: Buffer) => void) | undefined;
  socket.on('message', (m) => {
    if (waiter !== undefined) {
      const w = waiter;
      waiter = undefined;
      w(m);
    } else received.push(m);
  });
  socket.on('error', () => undefined); // ICMP port-unreachable after a kick
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', () => r()));
  return {
    socket,
    received,
    send: (bytes, port) =>
      new Promise<void>((resolve) => {
        socket.send(bytes, port, '127.0.0.1', () => resolve());
      }),
    next: (timeoutMs = 3000) =>
      new Promise<Buffer>((resolve, reject) => {
        const ready = received.shift();
        if (ready !== undefined) {
          resolve(ready);
          return;
        }
        const t = setTimeout(() => reject(new Error('no datagram')), timeoutMs);
        waiter = (b) => {
          clearTimeout(t);
          resolve(b);
        };
      }),
    close: () => {
      try {
        socket.close();
      } catch {
        // already closed
      }
    },
  };
}

/** Encodes `count` 20 ms stereo frames of a sine (`amplitude` of full scale) with libopus at `bitrate`. */
export function opusSine(count: number, amplitude: number, frequency = 440, bitrate = 64_000): Buffer[] {
  const encoder = new OpusEncoder(48_000, 2);
  encoder.setBitrate(bitrate);
  const frames: Buffer[] = [];
  let n = 0;
  for (let f = 0; f < count; f++) {
    const pcm = Buffer.alloc(FRAME_SAMPLES * 4);
    for (let i = 0; i < FRAME_SAMPLES; i++, n++) {
      const v = Math.round(amplitude * 32767 * Math.sin((2 * Math.PI * frequency * n) / 48_000));
      pcm.writeInt16LE(v, i * 4);
      pcm.writeInt16LE(v, i * 4 + 2);
    }
    frames.push(encoder.encode(pcm));
  }
  return frames;
}

/** One RTP packet with the given fields and payload. */
export function rtp(seq: number, payload: Uint8Array, opts: { ssrc?: number; pt?: number; marker?: boolean } = {}): Uint8Array {
  return encodeRtpPacket({
    marker: opts.marker ?? false,
    payloadType: opts.pt ?? 111,
    sequenceNumber: seq & 0xffff,
    timestamp: (seq * FRAME_SAMPLES) >>> 0,
    ssrc: opts.ssrc ?? 1111,
    csrcs: [],
    padding: 0,
    payload,
  });
}

/** Sleeps. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
