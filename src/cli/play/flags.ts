/**
 * `kook-rtp play`'s flags read into checked settings, and where each one goes: the player, every track, the sender,
 * the outputs. A flag's text is parsed in `../flags.ts`; its meaning for a play is decided here.
 */
import type { LoopMode, PlayerOptions } from '../../engine/player.js';
import type { TrackOptions } from '../../media/track.js';
import { readFileSync } from 'node:fs';
import { KookRtpError, isKookRtpError } from '../../errors.js';
import { validateFilters, type Filters } from '../../media/dsp/filters.js';
import { MAX_VOLUME } from '../../util/volume.js';
import { intFlag, loopOption, muxFlag, numFlag, passthroughOption, type Flags } from '../flags.js';

/** What a play was asked to do, checked. */
export interface PlaySettings {
  readonly ssrc: number | undefined;
  readonly pt: number | undefined;
  /** The room's bitrate for `--to` and the emulator (KOOK's answer wins with `--channel`). */
  readonly bitrate: number | undefined;
  readonly volume: number;
  /** Seconds into the first input. */
  readonly seek: number | undefined;
  readonly loop: LoopMode;
  readonly passthrough: 'auto' | 'never' | 'always';
  readonly rtcpMux: boolean | undefined;
  /** The sender's bitrate guard options (`--no-guard`). */
  readonly guard: { readonly enabled?: false };
  readonly normalize: 'off' | 'track';
  readonly normalizeTargetLufs: number | undefined;
  readonly crossfadeMs: number;
  readonly filters: Filters | undefined;
  /** Clips to mix over the music, seconds after it starts. */
  readonly overlays: readonly { readonly path: string; readonly atSec: number }[];
  readonly duckDb: number;
  /** Files to write: statistics, the packets sent, the audio sent. */
  readonly outputs: { readonly 'stats-json'?: string; readonly pcap?: string; readonly record?: string };
}

/**
 * Reads and checks play's flags, in the order their errors are reported.
 * @throws {@link KookRtpError} `USAGE` for a value out of range or of the wrong kind.
 */
export function readPlayFlags(flags: Flags): PlaySettings {
  const ssrc = intFlag(flags.ssrc, 'ssrc', 0, 0xffffffff);
  const pt = intFlag(flags.pt, 'pt', 0, 127);
  const bitrate = intFlag(flags.bitrate, 'bitrate', 6000, 10_000_000);
  const volume = numFlag(flags.volume, 'volume', 0, MAX_VOLUME) ?? 1;
  const seek = numFlag(flags.seek, 'seek', 0, 1e7);
  const loop = loopOption(flags.loop);
  const passthrough = passthroughOption(flags.passthrough);
  const rtcpMux = muxFlag(flags);
  const guard = flags['no-guard'] ? { enabled: false as const } : {};
  const normalize = (flags.normalize ?? 'off') as 'off' | 'track';
  if (normalize !== 'off' && normalize !== 'track') throw new KookRtpError('USAGE', `--normalize must be off or track, found "${String(flags.normalize)}"`);
  const normalizeTargetLufs = numFlag(flags['normalize-target'], 'normalize-target', -70, 0);
  const crossfadeMs = numFlag(flags.crossfade, 'crossfade', 0, 30_000) ?? 0;
  const filters = filtersFlag(flags.filters);
  const overlays = (flags.overlay ?? []).map(overlayFlag);
  const duckDb = numFlag(flags.duck, 'duck', -96, 0) ?? -12;
  const outputs = {
    ...(flags['stats-json'] === undefined ? {} : { 'stats-json': flags['stats-json'] }),
    ...(flags.pcap === undefined ? {} : { pcap: flags.pcap }),
    ...(flags.record === undefined ? {} : { record: flags.record }),
  };
  return { ssrc, pt, bitrate, volume, seek, loop, passthrough, rtcpMux, guard, normalize, normalizeTargetLufs, crossfadeMs, filters, overlays, duckDb, outputs };
}

/** `--filters JSON` or `--filters @file.json`, checked as the player would. */
function filtersFlag(v: string | undefined): Filters | undefined {
  if (v === undefined) return undefined;
  let text = v;
  if (v.startsWith('@')) {
    try {
      text = readFileSync(v.slice(1), 'utf8');
    } catch (err) {
      throw new KookRtpError('USAGE', `--filters ${v}: cannot read ${v.slice(1)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new KookRtpError('USAGE', `--filters is not JSON: ${(err as Error).message}`);
  }
  try {
    return validateFilters(parsed);
  } catch (err) {
    throw new KookRtpError('USAGE', `--filters: ${isKookRtpError(err) ? err.message : String(err)}`);
  }
}

/** `--overlay FILE@S` (S seconds after the music starts; FILE alone: at once). */
function overlayFlag(v: string): { path: string; atSec: number } {
  const m = /^(.*)@([\d.]+)$/.exec(v);
  const path = m === null ? v : (m[1] as string);
  const atSec = m === null ? 0 : Number(m[2]);
  if (path === '' || !Number.isFinite(atSec) || atSec < 0) throw new KookRtpError('USAGE', `--overlay must be FILE or FILE@SECONDS, found "${v}"`);
  return { path, atSec };
}

/** The player's options that come from the flags (the sender and the room come from the target). */
export function playerOptions(s: PlaySettings): Pick<PlayerOptions, 'volume' | 'loop' | 'normalize' | 'normalizeTargetLufs' | 'crossfadeMs' | 'filters'> {
  return {
    volume: s.volume,
    loop: s.loop,
    ...(s.normalize === 'track' ? { normalize: 'track' as const } : {}),
    ...(s.normalizeTargetLufs === undefined ? {} : { normalizeTargetLufs: s.normalizeTargetLufs }),
    ...(s.crossfadeMs > 0 ? { crossfadeMs: s.crossfadeMs } : {}),
    ...(s.filters === undefined ? {} : { filters: s.filters }),
  };
}

/** The options of every enqueued track that come from the flags. */
export function trackOptions(s: PlaySettings): TrackOptions {
  return { passthrough: s.passthrough };
}
