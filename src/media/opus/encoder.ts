/**
 * The Opus encoder: 48 kHz stereo, 20 ms frames, application AUDIO, constrained VBR, on native libopus
 * (@discordjs/opus) with an automatic fallback to opusscript (WASM).
 */

import { KookRtpError } from '../../errors.js';
import { FRAME_SAMPLES } from '../dsp/framer.js';
import {
  CTL,
  OPUS_APPLICATION_AUDIO,
  SIGNAL,
  bufferView,
  loadNative,
  loadScript,
  nativeLoadError,
  type NativeOpus,
  type ScriptOpus,
} from './backend.js';

/** Lowest bitrate libopus accepts (OPUS_SET_BITRATE). */
export const OPUS_MIN_BITRATE = 500;
/** Highest bitrate libopus accepts (OPUS_SET_BITRATE). */
export const OPUS_MAX_BITRATE = 512_000;
/** RTP fixed header without CSRCs or extensions (RFC 3550 §5.1). */
export const RTP_HEADER_BYTES = 12;
/** UDP header (RFC 768). */
export const UDP_HEADER_BYTES = 8;
/** IPv4 header without options. */
export const IPV4_HEADER_BYTES = 20;
/** IPv6 fixed header. */
export const IPV6_HEADER_BYTES = 40;

/** Options of {@link createOpusEncoder}. */
export interface OpusEncoderOptions {
  /** Opus target bits/s (500..512000). */
  readonly bitrate: number;
  /** 0-10, default 10. */
  readonly complexity?: number;
  /** In-band FEC (LBRR), default false. */
  readonly fec?: boolean;
  /** Expected packet loss in percent (0..100), default 0; makes FEC spend bits. */
  readonly packetLossPercent?: number;
  /** OPUS_SET_SIGNAL hint, default 'auto'. */
  readonly signal?: 'auto' | 'music' | 'voice';
  /** Default 'auto': native if it loads, else opusscript. */
  readonly backend?: 'auto' | 'native' | 'opusscript';
}

/** A stateful Opus encoder for 20 ms 48 kHz stereo frames. */
export interface OpusFrameEncoder {
  /** Which implementation encodes. */
  readonly backend: 'native' | 'opusscript';
  /** Current target bitrate in bits/s. */
  readonly bitrate: number;
  /**
   * Encodes one 20 ms frame.
   * @param pcm - Interleaved Int16 stereo, exactly 1920 values.
   * @returns A fresh Opus packet (the caller may keep it).
   * @throws KookRtpError `INVALID_ARGUMENT` for a wrong length, `ENCODE_FAILED` if libopus fails or the encoder is
   * closed.
   */
  encode(pcm: Int16Array): Uint8Array;
  /**
   * Changes the target bitrate from the next frame on.
   * @throws KookRtpError `INVALID_ARGUMENT` outside 500..512000.
   */
  setBitrate(bitsPerSecond: number): void;
  /** Frees the encoder; later calls to `encode` throw `ENCODE_FAILED`. Idempotent. */
  close(): void;
}

function checkInt(name: string, v: number, min: number, max: number): void {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new KookRtpError('INVALID_ARGUMENT', `${name} must be an integer in ${min}..${max}, got ${String(v)}`);
  }
}

function checkBitrate(v: number): void {
  checkInt('bitrate', v, OPUS_MIN_BITRATE, OPUS_MAX_BITRATE);
}

/**
 * Which encoder backend loads on this machine.
 *
 * @returns `native` when @discordjs/opus loads; otherwise `opusscript` and the native loader's error message.
 */
export function opusBackendInfo(): { backend: 'native' | 'opusscript'; nativeError?: string } {
  if (loadNative() !== null) return { backend: 'native' };
  const nativeError = nativeLoadError();
  return nativeError === undefined ? { backend: 'opusscript' } : { backend: 'opusscript', nativeError };
}

/** Applies one CTL, turning the backend's untyped error into ours. */
function ctl(apply: (ctl: number, value: number) => void, request: number, value: number, what: string): void {
  try {
    apply(request, value);
  } catch (err) {
    throw new KookRtpError('ENCODE_FAILED', `libopus rejected ${what} = ${value}`, { cause: err });
  }
}

class Encoder implements OpusFrameEncoder {
  readonly backend: 'native' | 'opusscript';
  bitrate: number;
  private native: NativeOpus | null;
  private script: ScriptOpus | null;
  private lastPcm: Int16Array | null = null;
  private lastView: Buffer | null = null;
  private closed = false;

  constructor(backend: 'native' | 'opusscript', native: NativeOpus | null, script: ScriptOpus | null, bitrate: number) {
    this.backend = backend;
    this.native = native;
    this.script = script;
    this.bitrate = bitrate;
  }

  encode(pcm: Int16Array): Uint8Array {
    if (!(pcm instanceof Int16Array) || pcm.length !== FRAME_SAMPLES * 2) {
      throw new KookRtpError(
        'INVALID_ARGUMENT',
        `encode expects an Int16Array of ${FRAME_SAMPLES * 2} interleaved stereo values (20 ms at 48 kHz), got ${
          pcm instanceof Int16Array ? `${pcm.length} values` : typeof pcm
        }`,
      );
    }
    if (this.closed) throw new KookRtpError('ENCODE_FAILED', 'the Opus encoder is closed');
    // The framer hands us the same array every time: keep one Buffer view of it instead of one per frame.
    if (pcm !== this.lastPcm) {
      this.lastPcm = pcm;
      this.lastView = bufferView(pcm);
    }
    const view = this.lastView as Buffer;
    try {
      // Both backends copy the packet out of their scratch memory (Buffer::Copy / Buffer.from), so it is ours.
      if (this.native !== null) return this.native.encode(view);
      return (this.script as ScriptOpus).encode(view, FRAME_SAMPLES);
    } catch (err) {
      throw new KookRtpError('ENCODE_FAILED', `Opus encoding failed (${this.backend})`, { cause: err });
    }
  }

  setBitrate(bitsPerSecond: number): void {
    checkBitrate(bitsPerSecond);
    if (this.closed) throw new KookRtpError('ENCODE_FAILED', 'the Opus encoder is closed');
    if (this.native !== null) {
      const n = this.native;
      ctl((_, v) => n.setBitrate(v), CTL.SET_BITRATE, bitsPerSecond, 'bitrate');
    } else {
      const s = this.script as ScriptOpus;
      ctl((c, v) => s.encoderCTL(c, v), CTL.SET_BITRATE, bitsPerSecond, 'bitrate');
    }
    this.bitrate = bitsPerSecond;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    // The native object is freed by its finaliser; opusscript's WASM memory must be released by hand.
    this.script?.delete();
    this.script = null;
    this.native = null;
    this.lastPcm = null;
    this.lastView = null;
  }
}

/**
 * Creates an Opus encoder: 48 kHz, stereo, 20 ms frames, OPUS_APPLICATION_AUDIO, constrained VBR.
 *
 * @remarks
 * CTLs applied: OPUS_SET_VBR(1), OPUS_SET_VBR_CONSTRAINT(1), OPUS_SET_BITRATE, OPUS_SET_COMPLEXITY,
 * OPUS_SET_SIGNAL, OPUS_SET_INBAND_FEC, OPUS_SET_PACKET_LOSS_PERC. Constrained VBR keeps every packet close to the
 * target size, which is what a room bitrate limit needs.
 *
 * @param options - See {@link OpusEncoderOptions}.
 * @throws KookRtpError `INVALID_ARGUMENT` on out-of-range options; `UNSUPPORTED_FORMAT` when `backend: 'native'`
 * is asked for and the addon does not load; `ENCODE_FAILED` when libopus rejects a setting.
 */
export function createOpusEncoder(options: OpusEncoderOptions): OpusFrameEncoder {
  checkBitrate(options.bitrate);
  const complexity = options.complexity ?? 10;
  checkInt('complexity', complexity, 0, 10);
  const fec = options.fec ?? false;
  if (typeof fec !== 'boolean') throw new KookRtpError('INVALID_ARGUMENT', `fec must be a boolean`);
  const plp = options.packetLossPercent ?? 0;
  checkInt('packetLossPercent', plp, 0, 100);
  const signal = options.signal ?? 'auto';
  if (!(signal in SIGNAL)) {
    throw new KookRtpError('INVALID_ARGUMENT', `signal must be 'auto', 'music' or 'voice', got ${String(signal)}`);
  }
  const wanted = options.backend ?? 'auto';
  if (wanted !== 'auto' && wanted !== 'native' && wanted !== 'opusscript') {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `backend must be 'auto', 'native' or 'opusscript', got ${String(wanted)}`,
    );
  }

  const Native = wanted === 'opusscript' ? null : loadNative();
  if (wanted === 'native' && Native === null) {
    throw new KookRtpError(
      'UNSUPPORTED_FORMAT',
      `the native Opus encoder (@discordjs/opus) did not load: ${nativeLoadError() ?? 'unknown error'}; ` +
        `use backend 'auto' or 'opusscript'`,
    );
  }
  let encoder: Encoder;
  let apply: (c: number, v: number) => void;
  if (Native !== null) {
    const n = new Native(48_000, 2);
    apply = (c, v) => n.applyEncoderCTL(c, v);
    encoder = new Encoder('native', n, null, options.bitrate);
  } else {
    const Script = loadScript();
    const s = new Script(48_000, 2, OPUS_APPLICATION_AUDIO);
    apply = (c, v) => s.encoderCTL(c, v);
    encoder = new Encoder('opusscript', null, s, options.bitrate);
  }
  try {
    ctl(apply, CTL.SET_VBR, 1, 'OPUS_SET_VBR');
    ctl(apply, CTL.SET_VBR_CONSTRAINT, 1, 'OPUS_SET_VBR_CONSTRAINT');
    ctl(apply, CTL.SET_BITRATE, options.bitrate, 'OPUS_SET_BITRATE');
    ctl(apply, CTL.SET_COMPLEXITY, complexity, 'OPUS_SET_COMPLEXITY');
    ctl(apply, CTL.SET_SIGNAL, SIGNAL[signal], 'OPUS_SET_SIGNAL');
    ctl(apply, CTL.SET_INBAND_FEC, fec ? 1 : 0, 'OPUS_SET_INBAND_FEC');
    ctl(apply, CTL.SET_PACKET_LOSS_PERC, plp, 'OPUS_SET_PACKET_LOSS_PERC');
  } catch (err) {
    encoder.close();
    throw err;
  }
  return encoder;
}

/** Options of {@link opusBitrateForRoom}. */
export interface RoomBitrateOptions {
  /**
   * What the room limit counts: 'payload' = Opus bytes only; 'rtp' (default) = RTP header + payload;
   * 'ip' = IP + UDP + RTP headers + payload.
   */
  readonly count?: 'payload' | 'rtp' | 'ip';
  /** Packet duration in ms, default 20 (50 packets/s). */
  readonly frameMs?: number;
  /** Fraction of the room to aim at, default 0.9: constrained VBR still swings a few percent around its target. */
  readonly headroom?: number;
  /** IP version for `count: 'ip'`, default 4. */
  readonly ipVersion?: 4 | 6;
}

/**
 * The Opus bitrate to ask for so that what the room counts stays within its limit.
 *
 * @remarks
 * `opus = floor(room · headroom − overheadBytes · 8 · packetsPerSecond)`, with `packetsPerSecond = 1000 / frameMs`
 * and `overheadBytes` = 0 for 'payload', 12 (RTP) for 'rtp', 12 + 8 (UDP) + 20 (IPv4) or 40 (IPv6) for 'ip'.
 * Example: a 128 kbps room counted as 'rtp' at 20 ms: 128000 · 0.9 − 12 · 8 · 50 = 115200 − 4800 = 110400.
 * The result is capped at 512000 (libopus's maximum).
 *
 * @param roomBitrate - The room's limit in bits/s.
 * @param options - See {@link RoomBitrateOptions}.
 * @returns An integer bitrate for {@link createOpusEncoder} / `setBitrate`.
 * @throws KookRtpError `INVALID_ARGUMENT` on bad inputs or when the headers alone use up the room (below 500 bps
 * would be left for Opus).
 */
export function opusBitrateForRoom(roomBitrate: number, options: RoomBitrateOptions = {}): number {
  if (typeof roomBitrate !== 'number' || !Number.isFinite(roomBitrate) || roomBitrate <= 0) {
    throw new KookRtpError('INVALID_ARGUMENT', `roomBitrate must be a positive number, got ${String(roomBitrate)}`);
  }
  const count = options.count ?? 'rtp';
  const frameMs = options.frameMs ?? 20;
  const headroom = options.headroom ?? 0.9;
  const ipVersion = options.ipVersion ?? 4;
  if (![2.5, 5, 10, 20, 40, 60, 80, 100, 120].includes(frameMs)) {
    throw new KookRtpError('INVALID_ARGUMENT', `frameMs must be an Opus frame duration (2.5..120 ms), got ${frameMs}`);
  }
  if (typeof headroom !== 'number' || !(headroom > 0 && headroom <= 1)) {
    throw new KookRtpError('INVALID_ARGUMENT', `headroom must be in (0, 1], got ${String(headroom)}`);
  }
  if (ipVersion !== 4 && ipVersion !== 6) {
    throw new KookRtpError('INVALID_ARGUMENT', `ipVersion must be 4 or 6, got ${String(ipVersion)}`);
  }
  let overhead: number;
  switch (count) {
    case 'payload':
      overhead = 0;
      break;
    case 'rtp':
      overhead = RTP_HEADER_BYTES;
      break;
    case 'ip':
      overhead =
        RTP_HEADER_BYTES + UDP_HEADER_BYTES + (ipVersion === 4 ? IPV4_HEADER_BYTES : IPV6_HEADER_BYTES);
      break;
    default:
      throw new KookRtpError('INVALID_ARGUMENT', `count must be 'payload', 'rtp' or 'ip', got ${String(count)}`);
  }
  const packetsPerSecond = 1000 / frameMs;
  const opus = Math.floor(roomBitrate * headroom - overhead * 8 * packetsPerSecond);
  if (opus < OPUS_MIN_BITRATE) {
    throw new KookRtpError(
      'INVALID_ARGUMENT',
      `a room of ${roomBitrate} bps leaves ${opus} bps for Opus after headers and headroom; ` +
        `Opus needs at least ${OPUS_MIN_BITRATE}: raise the room bitrate or use longer frames`,
    );
  }
  return Math.min(opus, OPUS_MAX_BITRATE);
}
