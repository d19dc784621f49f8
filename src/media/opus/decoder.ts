/**
 * The Opus decoder (48 kHz stereo), native libopus with an automatic fallback to opusscript. Used by the emulator's
 * level meter and by passthrough-with-volume (decode, gain, re-encode).
 */

import { KookRtpError } from '../../errors.js';
import { OPUS_APPLICATION_AUDIO, bufferView, loadNative, loadScript, type NativeOpus, type ScriptOpus } from './backend.js';

/** A stateful Opus decoder to interleaved Int16 stereo at 48 kHz. */
export interface OpusFrameDecoder {
  /**
   * Decodes one Opus packet (any frame size up to 120 ms).
   * @returns A fresh Int16Array, interleaved stereo at 48 kHz (1920 values for a 20 ms packet).
   * @throws KookRtpError `DECODE_FAILED` for a corrupt packet or a closed decoder.
   */
  decode(packet: Uint8Array): Int16Array;
  /** Frees the decoder. Idempotent. */
  close(): void;
}

/** Which backend a decoder uses. */
export type OpusDecoderBackend = 'native' | 'opusscript';

/** Copies the backend's little-endian Int16 bytes out into an aligned Int16Array. */
function toInt16(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length >> 1);
  new Uint8Array(out.buffer).set(buf.subarray(0, out.length * 2));
  return out;
}

/**
 * Creates an Opus decoder for 48 kHz stereo output.
 *
 * @param options - `backend`: 'auto' (default; native if it loads, else opusscript), 'native' or 'opusscript'.
 * @throws KookRtpError `UNSUPPORTED_FORMAT` when 'native' is asked for and does not load.
 */
export function createOpusDecoder(
  options: { readonly backend?: 'auto' | OpusDecoderBackend } = {},
): OpusFrameDecoder & { readonly backend: OpusDecoderBackend } {
  const wanted = options.backend ?? 'auto';
  const Native = wanted === 'opusscript' ? null : loadNative();
  if (wanted === 'native' && Native === null) {
    throw new KookRtpError('UNSUPPORTED_FORMAT', 'the native Opus decoder (@discordjs/opus) did not load');
  }
  let native: NativeOpus | null = Native === null ? null : new Native(48_000, 2);
  let script: ScriptOpus | null = native === null ? new (loadScript())(48_000, 2, OPUS_APPLICATION_AUDIO) : null;
  const backend: OpusDecoderBackend = native !== null ? 'native' : 'opusscript';
  return {
    backend,
    decode(packet: Uint8Array): Int16Array {
      if (!(packet instanceof Uint8Array) || packet.length === 0) {
        throw new KookRtpError('DECODE_FAILED', 'expected a non-empty Opus packet (Uint8Array)');
      }
      if (native === null && script === null) throw new KookRtpError('DECODE_FAILED', 'the Opus decoder is closed');
      let pcm: Buffer;
      try {
        pcm = native !== null ? native.decode(bufferView(packet)) : (script as ScriptOpus).decode(bufferView(packet));
      } catch (err) {
        throw new KookRtpError('DECODE_FAILED', `Opus decoding failed (${backend}): corrupt packet?`, { cause: err });
      }
      return toInt16(pcm);
    },
    close(): void {
      script?.delete();
      script = null;
      native = null;
    },
  };
}
