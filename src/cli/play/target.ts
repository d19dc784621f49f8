/**
 * Where a play sends, and the player that sends there: a plain-RTP endpoint (`--to`), a KOOK voice channel
 * (`--channel`, with `--token` or `KOOK_TOKEN` and `--api-base`), or, with neither, the built-in KOOK emulator.
 */
import { KookRtpError, isKookRtpError } from '../../errors.js';
import { createPlayer, type Player } from '../../engine/player.js';
import { createRtpSender, type RtpSender } from '../../engine/sender.js';
import type { Dashboard } from '../../dashboard/dashboard.js';
import type { KookEmulator } from '../../emulator/kook/emulator.js';
import type { VoiceSession } from '../../kook/session.js';
import type { Flags } from '../flags.js';
import type { CliOutput } from '../output.js';
import { defaultCname, parseRtpUrl } from '../target.js';
import { playerOptions, type PlaySettings } from './flags.js';
import type { PlayRecorders } from './recorders.js';
import type { StatsDocument } from './report.js';

// The emulator and the KOOK session are loaded only by the runs that use them: a plain `--to` push starts faster
// without their module graphs.
const loadEmulator = (): Promise<typeof import('../../emulator/kook/emulator.js')> => import('../../emulator/kook/emulator.js');
const loadSession = (): Promise<typeof import('../../kook/session.js')> => import('../../kook/session.js');

/** A play's connection: its player, what it pushes to, and what it started to get there. */
export interface PlayTarget {
  readonly player: Player;
  /** The KOOK session (a channel or the emulator), not with `--to`. */
  readonly session: VoiceSession | undefined;
  /** The built-in emulator, when no target was given. */
  readonly emulator: KookEmulator | undefined;
  /** The target as the stats document shows it. */
  readonly target: StatsDocument['target'];
  /** The sender in use (a session makes a new one when it joins again). */
  sender(): RtpSender | undefined;
  /** Set once the far side closed the stream: `reason: detail`. */
  readonly streamClosed: string | undefined;
}

/** What connecting needs. */
export interface TargetContext {
  readonly flags: Flags;
  readonly settings: PlaySettings;
  readonly out: CliOutput;
  readonly dashboard: Dashboard | undefined;
  /** The recorders' hook, given to the sender. */
  readonly onPacket: PlayRecorders['onPacket'];
  /** Told how to find the sender as soon as there is one (the recorders read its transport). */
  readonly onSender: (sender: () => RtpSender | undefined) => void;
}

/**
 * Connects: starts the sender and player for `--to`, or joins the channel (starting the emulator first when no
 * target was given). Prints where it sends.
 * @throws {@link KookRtpError} `USAGE` for `--channel` without a token; the join's errors (the emulator and the
 *   session are closed first).
 */
export async function openPlayTarget(c: TargetContext): Promise<PlayTarget> {
  const { flags, settings, out, dashboard, onPacket, onSender } = c;
  const { ssrc, pt, bitrate, guard } = settings;
  const mux = settings.rtcpMux;
  let t: PlayTarget;
  if (flags.to) {
    const u = parseRtpUrl(flags.to, mux);
    const room = bitrate ?? 48000;
    const sender = createRtpSender({
      target: { host: u.host, port: u.port, rtcpPort: u.rtcpPort, rtcpMux: u.rtcpMux },
      // The CNAME `kook-rtp sdp` prints for the same target and SSRC, so a receiver's SDP matches the RTCP.
      rtcp: { cname: flags.cname ?? defaultCname(u, ssrc ?? 1111) },
      ...(ssrc === undefined ? {} : { ssrc }),
      ...(pt === undefined ? {} : { payloadType: pt }),
      roomBitrate: room,
      guard,
      ...(onPacket === undefined ? {} : { onPacket }),
    });
    onSender(() => sender);
    await sender.start();
    const player = createPlayer({ sender, roomBitrate: room, ...playerOptions(settings) });
    dashboard?.add(player, { name: 'play', roomBitrate: room });
    t = {
      player,
      session: undefined,
      emulator: undefined,
      target: { kind: 'rtp', host: u.host, port: u.port, rtcpPort: u.rtcpPort, rtcpMux: u.rtcpMux, ssrc: sender.stats().ssrc, payloadType: pt ?? 111, bitrate: room },
      sender: () => sender,
      streamClosed: undefined,
    };
  } else {
    t = await joinChannel(c);
  }
  const { target } = t;
  out.info(`→ rtp://${target.host}:${target.port}${target.rtcpMux ? ' (RTCP muxed)' : `?rtcpport=${target.rtcpPort}`} ssrc=${target.ssrc} pt=${target.payloadType} bitrate=${target.bitrate}`);
  out.event('target', { ...target });
  return t;
}

async function joinChannel(c: TargetContext): Promise<PlayTarget> {
  const { flags, settings, out, dashboard, onPacket, onSender } = c;
  const { ssrc, pt, bitrate, guard } = settings;
  const mux = settings.rtcpMux;
  let token = flags.token ?? process.env['KOOK_TOKEN'];
  let apiBase = flags['api-base'];
  let channelId = flags.channel;
  let emulator: KookEmulator | undefined;
  if (channelId === undefined) {
    const { startKookEmulator } = await loadEmulator();
    emulator = await startKookEmulator({ bitrate: bitrate ?? 48000 });
    token = emulator.token;
    apiBase = emulator.apiBase;
    channelId = '1001';
    dashboard?.add(emulator, { name: 'emulator' });
    out.info(`KOOK emulator at ${emulator.apiBase} (pass --channel ID --token T to stream to KOOK)`);
  } else if (!token) {
    throw new KookRtpError('USAGE', '--channel needs a bot token: --token T or the KOOK_TOKEN environment variable');
  }
  const { createVoiceSession } = await loadSession();
  const session = createVoiceSession({
    token,
    ...(apiBase === undefined ? {} : { apiBase }),
    channelId,
    ...(ssrc === undefined ? {} : { audioSsrc: ssrc }),
    ...(pt === undefined ? {} : { audioPt: pt }),
    ...(mux === undefined ? {} : { rtcpMux: mux }),
    ...(flags.password === undefined ? {} : { password: flags.password }),
    sender: { guard, ...(onPacket === undefined ? {} : { onPacket }) },
    player: playerOptions(settings),
  });
  dashboard?.add(session, { name: 'play' });
  let streamClosed: string | undefined;
  session.on('streamClosed', (e) => {
    streamClosed = `${e.reason}: ${e.detail}`;
    out.info(`the far side closed the stream (${streamClosed})`);
    out.event('streamClosed', { reason: e.reason, detail: e.detail });
  });
  onSender(() => session.sender);
  let join;
  try {
    join = await session.join();
  } catch (err) {
    // runCli may be embedded: leave nothing listening behind.
    await session.leave();
    await emulator?.close();
    throw inCliWords(err);
  }
  return {
    player: session.player,
    session,
    emulator,
    target: { kind: emulator ? 'emulator' : 'kook', host: join.ip, port: join.port, rtcpPort: join.rtcpPort, rtcpMux: join.rtcpMux, ssrc: join.audioSsrc, payloadType: join.audioPt, bitrate: join.bitrate },
    sender: () => session.sender,
    get streamClosed() {
      return streamClosed;
    },
  };
}

/**
 * The library's advice names its option (`apiBase`, `timeoutMs`); on the command line the flag is what to change.
 * Same code, same cause.
 */
function inCliWords(err: unknown): unknown {
  if (!isKookRtpError(err) || !/\bapiBase\b/.test(err.message)) return err;
  return new KookRtpError(err.code, err.message.replace(/\bapiBase\b/g, '--api-base'), { cause: err });
}
