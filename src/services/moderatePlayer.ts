/**
 * One call that puts a player under moderation: start an HTTP-FLV tap of what the player sends, submit the tap's URL
 * to Shumei and/or Tupu, deliver their verdicts as the link's `moderation` events, and close the moderation (and the
 * tap) when the player stops.
 *
 * The link is its own object, as @discordjs/voice's `PlayerSubscription` is for a player and a connection: it knows
 * the player and the services, owns the events about the two together, and neither side imports the other.
 */
import { EventEmitter } from 'node:events';
import type { Player, PlayerState } from '../engine/player.js';
import { emitGuarded } from '../util/emit.js';
import type { CallbackServer } from './callbackServer.js';
import { moderate, type ModerateOptions, type ModerationEvent, type ModerationSession } from './moderate.js';
import { createModerationTap, type ModerationTap, type ModerationTapOptions } from './tap.js';

/** Options of {@link moderatePlayer}. */
export interface ModeratePlayerOptions {
  /** Where the services post their verdicts (its routes must be reachable by them). */
  readonly callbackServer: CallbackServer;
  /** Shumei submit settings (see {@link moderate}). */
  readonly shumei?: ModerateOptions['shumei'];
  /** Tupu submit settings (see {@link moderate}). */
  readonly tupu?: ModerateOptions['tupu'];
  /** The tap's HTTP server (host, port, public base URL, MP3 bitrate...). */
  readonly tap?: ModerationTapOptions;
  /** How long after the player stopped verdicts are still delivered (marked `afterStop`), ms. Default 30 000. */
  readonly verdictGraceMs?: number;
}

/** Events of a {@link PlayerModeration}. */
export interface PlayerModerationEvents {
  /** A verdict on what the player sends (`afterStop` for one about its last seconds, within the grace period). */
  moderation: [event: ModerationEvent];
  /** The link was closed (the player stopped, or `close()`): no more verdicts after this. */
  closed: [];
}

/**
 * A running moderation of a player: the link between the player and the services, and the owner of its events.
 * Service errors are the `session`'s `error` events.
 */
export class PlayerModeration extends EventEmitter<PlayerModerationEvents> {
  /** The HTTP-FLV tap the services pull. */
  readonly tap: ModerationTap;
  /** The submits and their callbacks. */
  readonly session: ModerationSession;
  readonly #player: Player;
  #closing: Promise<void> | undefined;
  readonly #onState = (_old: PlayerState, next: PlayerState): void => {
    // Nobody awaits this close: a failure (the tap's server refusing to close) must not become an unhandled rejection.
    if (next.status === 'stopped') this.close().catch(() => undefined);
  };

  /** @internal Made by {@link moderatePlayer}. */
  constructor(player: Player, tap: ModerationTap, session: ModerationSession) {
    super();
    this.#player = player;
    this.tap = tap;
    this.session = session;
    session.on('moderation', (e) => emitGuarded(this, 'moderation', [e], 'KOOK_RTP_MODERATION'));
    player.on('stateChange', this.#onState);
  }

  /** Detaches from the player, closes the moderation at the services and the tap. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#player.off('stateChange', this.#onState);
      this.#player.setTap(undefined);
      this.tap.stop();
      try {
        await this.session.close();
        await this.tap.close();
      } finally {
        emitGuarded(this, 'closed', [], 'KOOK_RTP_MODERATION');
      }
    })();
    return this.#closing;
  }
}

/**
 * Starts moderating what `player` sends.
 *
 * @returns the link: verdicts arrive as its `moderation` events, service errors as its session's `error` events
 *   (listen to them).
 * @example
 * const m = await moderatePlayer(player, { callbackServer, shumei: { client, submitOptions } });
 * m.on('moderation', (e) => { if (e.riskLevel === 'REJECT') player.skip(); });
 */
export async function moderatePlayer(player: Player, options: ModeratePlayerOptions): Promise<PlayerModeration> {
  const tap = await createModerationTap(options.tap ?? {});
  tap.start();
  player.setTap(tap);
  const session = moderate({
    tap,
    callbackServer: options.callbackServer,
    ...(options.shumei === undefined ? {} : { shumei: options.shumei }),
    ...(options.tupu === undefined ? {} : { tupu: options.tupu }),
    ...(options.verdictGraceMs === undefined ? {} : { verdictGraceMs: options.verdictGraceMs }),
  });
  return new PlayerModeration(player, tap, session);
}
