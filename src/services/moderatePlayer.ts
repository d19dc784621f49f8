/**
 * One call that puts a player under moderation: start an HTTP-FLV tap of what the player sends, submit the tap's URL
 * to Shumei and/or Tupu, route their verdicts to the player's `moderation` event, and close the moderation (and the
 * tap) when the player stops.
 */
import type { Player, PlayerState } from '../engine/player.js';
import type { CallbackServer } from './callbackServer.js';
import { moderate, type ModerateOptions, type ModerationSession } from './moderate.js';
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

/** A running moderation of a player. */
export interface PlayerModeration {
  readonly tap: ModerationTap;
  readonly session: ModerationSession;
  /** Detaches from the player, closes the moderation at the services and the tap. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts moderating what `player` sends.
 *
 * @returns the tap and the moderation session; verdicts arrive as the player's `moderation` events, service errors
 *   as the session's `error` events (listen to them).
 * @example
 * const m = await moderatePlayer(player, { callbackServer, shumei: { client, submitOptions } });
 * player.on('moderation', (e) => { if (e.riskLevel === 'REJECT') player.skip(); });
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
  session.on('moderation', (e) => player.emit('moderation', e));
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      player.off('stateChange', onState);
      player.setTap(undefined);
      tap.stop();
      await session.close();
      await tap.close();
    })();
    return closing;
  };
  const onState = (_old: PlayerState, next: PlayerState): void => {
    // Nobody awaits this close: a failure (the tap's server refusing to close) must not become an unhandled rejection.
    if (next.status === 'stopped') close().catch(() => undefined);
  };
  player.on('stateChange', onState);
  return { tap, session, close };
}
