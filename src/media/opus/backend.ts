/**
 * Loads the Opus codec backends: @discordjs/opus (native libopus, fast) or opusscript (libopus in WASM, always
 * loads). Both are CommonJS, so they come in through createRequire; each is loaded once and cached.
 */

import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** The slice of @discordjs/opus's `OpusEncoder` we use (it holds one encoder and one decoder). */
export interface NativeOpus {
  encode(buf: Buffer): Buffer;
  decode(buf: Buffer): Buffer;
  applyEncoderCTL(ctl: number, value: number): void;
  setBitrate(bitrate: number): void;
  getBitrate(): number;
}

/** The slice of opusscript's `OpusScript` we use. */
export interface ScriptOpus {
  encode(buf: Buffer, frameSize: number): Buffer;
  decode(buf: Buffer): Buffer;
  encoderCTL(ctl: number, arg: number): void;
  delete(): void;
}

type NativeCtor = new (rate: number, channels: number) => NativeOpus;
type ScriptCtor = new (rate: number, channels: number, application: number) => ScriptOpus;

let nativeCtor: NativeCtor | null | undefined;
let nativeError: string | undefined;
let scriptCtor: ScriptCtor | undefined;

/**
 * The addon's prebuilt binary when it can be named without @discordjs/node-pre-gyp (whose loading, with npmlog and
 * a `process.report` libc probe, costs ~40 ms of start-up): the one `prebuild/` directory for this Node ABI,
 * platform and architecture. Undefined when that is ambiguous (several libc variants) or absent (built from source).
 */
function prebuiltAddonPath(): string | undefined {
  try {
    const root = join(dirname(require.resolve('@discordjs/opus')), '..', 'prebuild');
    const prefix = `node-v${process.versions.modules}-napi-v3-${process.platform}-${process.arch}-`;
    const dirs = readdirSync(root).filter((d) => d.startsWith(prefix));
    return dirs.length === 1 ? join(root, dirs[0] as string, 'opus.node') : undefined;
  } catch {
    return undefined;
  }
}

function requireNative(): { OpusEncoder: NativeCtor } {
  const direct = prebuiltAddonPath();
  if (direct !== undefined) {
    try {
      return require(direct) as { OpusEncoder: NativeCtor };
    } catch {
      // Fall through to the package's own loader, which reports a meaningful error.
    }
  }
  return require('@discordjs/opus') as { OpusEncoder: NativeCtor };
}

/** @discordjs/opus's constructor, or null (with {@link nativeLoadError} set) when the addon cannot load. */
export function loadNative(): NativeCtor | null {
  if (nativeCtor === undefined) {
    try {
      const mod = requireNative();
      nativeCtor = mod.OpusEncoder;
      // A broken build can export the class yet fail on first use: create one to be sure.
      const probe = new nativeCtor(48_000, 2);
      probe.getBitrate();
    } catch (err) {
      nativeCtor = null;
      nativeError = err instanceof Error ? err.message : String(err);
    }
  }
  return nativeCtor;
}

/** Why the native addon did not load, if it did not. */
export function nativeLoadError(): string | undefined {
  loadNative();
  return nativeError;
}

/** opusscript's constructor (throws if the package is missing: it is a dependency, so that is a broken install). */
export function loadScript(): ScriptCtor {
  if (scriptCtor === undefined) scriptCtor = require('opusscript') as ScriptCtor;
  return scriptCtor;
}

/** OPUS_APPLICATION_AUDIO: favour fidelity over latency tricks (music bots). */
export const OPUS_APPLICATION_AUDIO = 2049;

/** libopus CTL request numbers (include/opus_defines.h). */
export const CTL = {
  SET_BITRATE: 4002,
  SET_VBR: 4006,
  SET_COMPLEXITY: 4010,
  SET_INBAND_FEC: 4012,
  SET_PACKET_LOSS_PERC: 4014,
  SET_VBR_CONSTRAINT: 4020,
  SET_SIGNAL: 4024,
} as const;

/** OPUS_AUTO, OPUS_SIGNAL_VOICE and OPUS_SIGNAL_MUSIC. */
export const SIGNAL = { auto: -1000, voice: 3001, music: 3002 } as const;

/** A Buffer over the same memory as `a` (no copy): the backends only accept Buffers. */
export function bufferView(a: ArrayBufferView): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}
