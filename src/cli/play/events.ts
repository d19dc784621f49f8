/**
 * What a play listens to while it runs: the player's track events (printed, and recorded for the stats document)
 * and Ctrl-C / SIGTERM (stop the player; the play then exits 130).
 */
import type { Player } from '../../engine/player.js';
import type { CliOutput } from '../output.js';
import type { TrackRecord } from './report.js';

/** The records of a play's tracks, by queue item id, in the order they were enqueued. */
export type TrackRecords = Map<number, TrackRecord>;

/**
 * Prints the player's events and records each track's info and end.
 * @returns the records (enqueue adds a record per item).
 */
export function watchTracks(player: Player, out: CliOutput): TrackRecords {
  const records: TrackRecords = new Map();
  player.on('trackStart', ({ item, info }) => {
    const r = records.get(item.id);
    if (r) r.info = info;
    out.trackStart(item, info);
  });
  player.on('trackEnd', (e) => {
    const r = records.get(e.item.id) ?? { title: e.item.title };
    r.reason = e.reason;
    r.playedSec = Math.round(e.playedSec * 1000) / 1000;
    if (e.error) r.error = { code: e.error.code, message: e.error.message };
    records.set(e.item.id, r);
    out.done();
    out.trackEnd(e.item, e.reason, e.playedSec, r.error);
  });
  player.on('progress', (p) => out.progress(p));
  player.on('error', () => {
    // Reported through trackEnd; listening keeps the player from treating it as unheard.
  });
  return records;
}

/** Ctrl-C and SIGTERM while a play runs. */
export interface PlaySignals {
  /** True once a signal stopped the player. */
  readonly interrupted: boolean;
  /** Stops listening. */
  off(): void;
}

/** Stops the player on SIGINT or SIGTERM (once). */
export function watchSignals(player: Player): PlaySignals {
  let interrupted = false;
  const onSignal = (): void => {
    interrupted = true;
    player.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return {
    get interrupted() {
      return interrupted;
    },
    off() {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}
