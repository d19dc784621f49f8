/**
 * What the dashboard watches, read through each object's public surface only: a sender's `stats()` and its
 * once-a-second `progress` events, a player's getters (state, queue, position), a voice session's join answer and
 * its sender in force, an emulator's `reports()`. Nothing here is called per packet: {@link StreamWatch.read} runs
 * once per sample (1 s) and once per `/metrics` scrape.
 *
 * The objects are recognised by shape, not by class, so the dashboard imports no engine code and keeps working while
 * the engine behind `stats()` changes.
 */
import type { KookEmulator } from '../emulator/kook/emulator.js';
import type { KookStreamReport } from '../emulator/kook/stream.js';
import type { Player } from '../engine/player.js';
import type { RtpSender } from '../engine/sender.js';
import { KookRtpError } from '../errors.js';
import type { VoiceSession } from '../kook/session.js';

/**
 * What `sender.stats()` returns, named through the sender's public method rather than the file that declares it (the
 * engine behind `stats()` may move; its shape stays).
 */
export type SenderStats = ReturnType<RtpSender['stats']>;

/** Anything {@link createDashboard} can show. */
export type DashboardSource = RtpSender | Player | VoiceSession | KookEmulator;

/** Which kind of object a row comes from. */
export type DashboardRowKind = 'sender' | 'player' | 'session' | 'emulator';

/** The player part of a row. */
export interface PlayerView {
  readonly status: string;
  readonly title: string | null;
  readonly positionSec: number;
  readonly durationSec: number | null;
  readonly codec: string | null;
  readonly mode: string | null;
  /** Titles of the items waiting (not the current one). */
  readonly queue: readonly string[];
}

/** The KOOK-session part of a row. */
export interface SessionView {
  readonly joined: boolean;
  readonly mediaAddress: string | null;
  /** Times the far side closed the stream (kick, reclaim). */
  readonly streamClosed: number;
  readonly rejoins: number;
  readonly lastClose: string | null;
}

/** Per-second figures between the sender's last two `progress` events. */
export interface ProgressRate {
  /** RTP bits per second (header + payload). */
  readonly bps: number;
  /** Mean send lateness of the packets of that second, ms (null when none was sent). */
  readonly latenessMs: number | null;
  /** How long ago the last event came, ms. */
  readonly ageMs: number;
}

/** What one read of a sender-side row gives. */
export interface StreamRead {
  /** The sender read (it changes when a session rejoins); undefined before a session has joined. */
  readonly sender: object | undefined;
  readonly stats: SenderStats | undefined;
  /** From the sender's own once-a-second progress events, once two have come. */
  readonly progress: ProgressRate | undefined;
  /** Whether the sender's progress events are followed (false for an object without events). */
  readonly followsProgress: boolean;
  /** The room's bitrate, bits/s, when known. */
  readonly roomBps: number | null;
  readonly player?: PlayerView;
  readonly session?: SessionView;
}

/** Options given with a source. */
export interface DashboardAddOptions {
  /** The row's name and its `stream` label in /metrics; default `sender-1`, `player-1`, `session-1`, `emulator-1`. */
  readonly name?: string;
  /**
   * The room's bitrate in bits/s, for the limit line of a sender or a player. Default: a session's join answer, a
   * player's own (from its progress events), else the sender's guard limit.
   */
  readonly roomBitrate?: number;
}

/** A watched sender, player or session: one row. */
export interface StreamWatch {
  readonly kind: 'sender' | 'player' | 'session';
  readonly source: DashboardSource;
  read(): StreamRead;
  dispose(): void;
}

/** A watched emulator: one row per stream (join) it has seen. */
export interface EmulatorWatch {
  readonly kind: 'emulator';
  readonly source: DashboardSource;
  reports(): KookStreamReport[];
  dispose(): void;
}

type Sender = RtpSender;

function isFn(v: unknown): boolean {
  return typeof v === 'function';
}

/** The kind of a source, by shape; throws `INVALID_ARGUMENT` for anything else. */
export function kindOf(source: unknown): DashboardRowKind {
  if (source === null || typeof source !== 'object') {
    throw new KookRtpError('INVALID_ARGUMENT', `the dashboard shows senders, players, voice sessions and emulators, found ${source === null ? 'null' : typeof source}`);
  }
  const s = source as Record<string, unknown>;
  if (isFn(s['reports']) && 'apiBase' in s) return 'emulator';
  if ('joinInfo' in s && isFn(s['join'])) return 'session';
  if ('positionSec' in s && isFn(s['enqueue'])) return 'player';
  if (isFn(s['stats']) && isFn(s['play'])) return 'sender';
  throw new KookRtpError(
    'INVALID_ARGUMENT',
    'the dashboard shows senders (createRtpSender), players (createPlayer), voice sessions (createVoiceSession) and emulators (startKookEmulator); this object is none of them',
  );
}

function guardLimitBps(stats: SenderStats | undefined): number | null {
  return stats?.guard === undefined ? null : stats.guard.limitBytes * 8;
}

function playerView(player: Player): PlayerView {
  const state = player.state;
  const item = player.current;
  const info = state.status === 'playing' || state.status === 'paused' ? state.info : undefined;
  return {
    status: state.status,
    title: item?.title ?? null,
    positionSec: item === undefined ? 0 : player.positionSec,
    durationSec: info?.durationSec ?? null,
    codec: info?.codec ?? null,
    mode: info?.mode ?? null,
    queue: player.queue.map((q) => q.title),
  };
}

/**
 * Follows a sender's `progress` events (once a second, never per packet) and keeps the figures of the second between
 * the last two. A sender's counters may be a snapshot refreshed only with these events (the pacer thread sends them
 * with its progress news): deltas taken on the dashboard's own timer would then alias into seconds of zero and
 * seconds of double; deltas between consecutive progress snapshots are the stream's own seconds.
 */
class ProgressMeter {
  #sender: Sender | undefined;
  #prev: { t: number; bytes: number; latenessSum: number; latenessCount: number } | undefined;
  #rate: { t: number; bps: number; latenessMs: number | null } | undefined;
  readonly #onProgress = (e: { stats: SenderStats }): void => {
    const t = performance.now();
    const s = e.stats;
    const cur = { t, bytes: s.bytes.rtp, latenessSum: s.lateness.meanMs * s.lateness.count, latenessCount: s.lateness.count };
    const prev = this.#prev;
    this.#prev = cur;
    if (prev === undefined || t <= prev.t || cur.bytes < prev.bytes) return;
    const dn = cur.latenessCount - prev.latenessCount;
    this.#rate = {
      t,
      bps: Math.round(((cur.bytes - prev.bytes) * 8 * 1000) / (t - prev.t)),
      latenessMs: dn > 0 ? Math.max(0, (cur.latenessSum - prev.latenessSum) / dn) : null,
    };
  };

  /** Follows `sender` (a new one after a rejoin starts afresh). */
  follow(sender: Sender | undefined): void {
    if (sender === this.#sender) return;
    this.dispose();
    if (sender === undefined || typeof (sender as Partial<Sender>).on !== 'function') return;
    this.#sender = sender;
    sender.on('progress', this.#onProgress);
  }

  get following(): boolean {
    return this.#sender !== undefined;
  }

  rate(): ProgressRate | undefined {
    const r = this.#rate;
    return r === undefined ? undefined : { bps: r.bps, latenessMs: r.latenessMs, ageMs: performance.now() - r.t };
  }

  dispose(): void {
    this.#sender?.off('progress', this.#onProgress);
    this.#sender = undefined;
    this.#prev = undefined;
    this.#rate = undefined;
  }
}

/** Remembers the room bitrate a player reports in its (once a second) progress events. */
function watchPlayerLimit(player: Player): { limit(): number | null; dispose(): void } {
  let limit: number | null = null;
  const onProgress = (p: { limitBps: number }): void => {
    limit = p.limitBps;
  };
  player.on('progress', onProgress);
  return { limit: () => limit, dispose: () => player.off('progress', onProgress) };
}

/** Creates the watch of one source. */
export function watch(source: DashboardSource, options: DashboardAddOptions = {}): StreamWatch | EmulatorWatch {
  const kind = kindOf(source);
  const room = options.roomBitrate ?? null;
  switch (kind) {
    case 'emulator': {
      const emulator = source as KookEmulator;
      return { kind, source, reports: () => emulator.reports(), dispose: () => {} };
    }
    case 'sender': {
      const sender = source as Sender;
      const meter = new ProgressMeter();
      meter.follow(sender);
      return {
        kind,
        source,
        read: () => {
          const stats = sender.stats();
          return { sender, stats, progress: meter.rate(), followsProgress: meter.following, roomBps: room ?? guardLimitBps(stats) };
        },
        dispose: () => meter.dispose(),
      };
    }
    case 'player': {
      const player = source as Player;
      const limit = watchPlayerLimit(player);
      const meter = new ProgressMeter();
      meter.follow(player.sender);
      return {
        kind,
        source,
        read: () => {
          const sender = player.sender;
          meter.follow(sender);
          const stats = sender.stats();
          return { sender, stats, progress: meter.rate(), followsProgress: meter.following, roomBps: room ?? limit.limit() ?? guardLimitBps(stats), player: playerView(player) };
        },
        dispose: () => {
          limit.dispose();
          meter.dispose();
        },
      };
    }
    case 'session': {
      const session = source as VoiceSession;
      let streamClosed = 0;
      let rejoins = 0;
      let lastClose: string | null = null;
      const onClosed = (e: { reason: string; detail: string }): void => {
        streamClosed++;
        lastClose = `${e.reason}: ${e.detail}`;
      };
      const onRejoined = (): void => {
        rejoins++;
      };
      session.on('streamClosed', onClosed);
      session.on('rejoined', onRejoined);
      const meter = new ProgressMeter();
      // Before join there is no sender; the first read after it starts following (and a rejoin's new sender too).
      const onJoined = (): void => meter.follow(session.sender);
      session.on('joined', onJoined);
      session.on('rejoined', onJoined);
      meter.follow(session.sender);
      return {
        kind,
        source,
        read: () => {
          const join = session.joinInfo;
          const sender = session.sender;
          meter.follow(sender);
          const stats = sender?.stats();
          let player: PlayerView | undefined;
          if (join !== undefined) {
            try {
              player = playerView(session.player);
            } catch {
              // Joined but the player is not there yet (join() is between its two steps).
            }
          }
          const view: SessionView = {
            joined: join !== undefined,
            mediaAddress: join === undefined ? null : `${join.ip}:${join.port}${join.rtcpMux ? '' : ` (RTCP ${join.rtcpPort})`}`,
            streamClosed,
            rejoins,
            lastClose,
          };
          return {
            sender,
            stats,
            progress: meter.rate(), followsProgress: meter.following,
            roomBps: room ?? join?.bitrate ?? guardLimitBps(stats),
            ...(player === undefined ? {} : { player }),
            session: view,
          };
        },
        dispose: () => {
          session.off('streamClosed', onClosed);
          session.off('rejoined', onRejoined);
          session.off('joined', onJoined);
          session.off('rejoined', onJoined);
          meter.dispose();
        },
      };
    }
  }
}
