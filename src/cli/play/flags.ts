/**
 * `kook-rtp play`'s flags read into checked settings, and where each one goes: the player, every track, the sender,
 * the outputs. A flag's text is parsed in `../flags.ts`; its meaning for a play is decided here.
 */
import type { LoopMode, PlayerOptions } from '../../engine/player.js';
import type { TrackOptions } from '../../media/track.js';
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
  const outputs = {
    ...(flags['stats-json'] === undefined ? {} : { 'stats-json': flags['stats-json'] }),
    ...(flags.pcap === undefined ? {} : { pcap: flags.pcap }),
    ...(flags.record === undefined ? {} : { record: flags.record }),
  };
  return { ssrc, pt, bitrate, volume, seek, loop, passthrough, rtcpMux, guard, outputs };
}

/** The player's options that come from the flags (the sender and the room come from the target). */
export function playerOptions(s: PlaySettings): Pick<PlayerOptions, 'volume' | 'loop'> {
  return { volume: s.volume, loop: s.loop };
}

/** The options of every enqueued track that come from the flags. */
export function trackOptions(s: PlaySettings): TrackOptions {
  return { passthrough: s.passthrough };
}
