/**
 * A minimal WAV (RIFF, PCM 16-bit little-endian) writer for the emulator's recordings.
 *
 * The header is written first with zero sizes and patched on close, so a recording of any length streams to disk
 * without being held in memory.
 *
 * @see http://soundfile.sapp.org/doc/WaveFormat/
 */
import { open, type FileHandle } from 'node:fs/promises';
import { KookRtpError } from '../../errors.js';

/** Bytes in the canonical 44-byte PCM WAV header. */
export const WAV_HEADER_SIZE = 44;

const RIFF_SIZE_OFFSET = 4; // file size - 8
const DATA_SIZE_OFFSET = 40; // PCM bytes

/** The format of a PCM WAV file. */
export interface WavFormat {
  /** Samples per second per channel, e.g. 48000. */
  readonly sampleRate: number;
  /** Interleaved channels, e.g. 2. */
  readonly channels: number;
}

/**
 * Encodes the 44-byte header of a 16-bit PCM WAV file.
 *
 * @param format - sample rate and channel count.
 * @param dataBytes - size of the PCM data that follows.
 * @returns the header bytes.
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for a non-positive rate/channel count or data over 4 GiB.
 */
export function encodeWavHeader(format: WavFormat, dataBytes: number): Uint8Array {
  const { sampleRate, channels } = format;
  if (!Number.isInteger(sampleRate) || sampleRate <= 0 || !Number.isInteger(channels) || channels <= 0 || channels > 0xffff) {
    throw new KookRtpError('INVALID_ARGUMENT', `WAV needs a positive integer sample rate and 1-65535 channels, got ${sampleRate} Hz, ${channels} ch`);
  }
  if (!Number.isInteger(dataBytes) || dataBytes < 0 || dataBytes > 0xffffffff - 36) {
    throw new KookRtpError('INVALID_ARGUMENT', `WAV data size must fit 32 bits, got ${dataBytes}`);
  }
  const blockAlign = channels * 2;
  const out = new Uint8Array(WAV_HEADER_SIZE);
  const view = new DataView(out.buffer);
  const ascii = (at: number, text: string): void => {
    for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  };
  ascii(0, 'RIFF');
  view.setUint32(RIFF_SIZE_OFFSET, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // PCM
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * blockAlign, true); // byte rate
  view.setUint16(32, blockAlign, true);
  view.setUint16(34, 16, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(DATA_SIZE_OFFSET, dataBytes, true);
  return out;
}

/** A WAV file being written; see {@link createWavWriter}. */
export interface WavWriter {
  /** The file path. */
  readonly path: string;
  /** Appends interleaved 16-bit samples (written in order, asynchronously). */
  write(samples: Int16Array): void;
  /** Patches the header sizes and closes the file; resolves with the PCM byte count. Idempotent. */
  close(): Promise<number>;
}

/**
 * Opens a WAV file for streaming 16-bit PCM into it.
 *
 * @param path - the file to create (overwritten if present).
 * @param format - sample rate and channel count.
 * @returns the writer once the file is open.
 * @throws the file system's error when the file cannot be created.
 */
export async function createWavWriter(path: string, format: WavFormat): Promise<WavWriter> {
  encodeWavHeader(format, 0); // validates the format before touching the disk
  const file: FileHandle = await open(path, 'w');
  let dataBytes = 0;
  let chain: Promise<unknown> = file.write(encodeWavHeader(format, 0), 0, WAV_HEADER_SIZE, 0);
  let closed: Promise<number> | undefined;
  return {
    path,
    write(samples) {
      if (closed !== undefined) return;
      // Copy out as little-endian bytes: the caller may reuse its buffer, and the host could be big-endian.
      const bytes = new Uint8Array(samples.length * 2);
      const view = new DataView(bytes.buffer);
      for (let i = 0; i < samples.length; i++) view.setInt16(i * 2, samples[i]!, true);
      const at = WAV_HEADER_SIZE + dataBytes;
      dataBytes += bytes.length;
      chain = chain.then(() => file.write(bytes, 0, bytes.length, at));
    },
    close() {
      closed ??= chain
        .then(() => file.write(encodeWavHeader(format, dataBytes), 0, WAV_HEADER_SIZE, 0))
        .finally(() => file.close())
        .then(() => dataBytes);
      return closed;
    },
  };
}
