/**
 * The end of a play, in order: leave (or destroy the player), stop listening for signals, close the recorders, take
 * the emulator's last report and close it, close the dashboard, write `--stats-json`, print the report, and pick
 * the exit status.
 */
import { writeFile } from 'node:fs/promises';
import type { Dashboard } from '../../dashboard/dashboard.js';
import type { KookStreamReport } from '../../emulator/kook/stream.js';
import type { CliOutput } from '../output.js';
import type { PlaySignals, TrackRecords } from './events.js';
import type { PlaySettings } from './flags.js';
import { closeRecorders, type PlayRecorders } from './recorders.js';
import { formatReport, type StatsDocument } from './report.js';
import type { PlayTarget } from './target.js';

/** What a play has open at its end. */
export interface PlayEnd {
  readonly settings: PlaySettings;
  readonly conn: PlayTarget;
  readonly recorders: PlayRecorders;
  readonly records: TrackRecords;
  readonly signals: PlaySignals;
  readonly dashboard: Dashboard | undefined;
  readonly out: CliOutput;
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

/**
 * Closes everything the play opened and reports.
 * @returns the exit status: 130 after a signal; 1 when the far side closed the stream, a track did not play, or a
 *   file could not be written; else 0.
 */
export async function finishPlay(end: PlayEnd): Promise<number> {
  const { conn, out, stdout, stderr, settings } = end;
  const senderStats = conn.sender()?.stats();
  if (conn.session) await conn.session.leave();
  else await conn.player.destroy();
  end.signals.off();
  const recordFailed = await closeRecorders(end.recorders.recorders, stderr);
  let report: KookStreamReport | undefined;
  if (conn.emulator) {
    const all = conn.emulator.reports();
    report = all[all.length - 1];
    await conn.emulator.close();
  }
  // A last sample (the final counters, the emulator's closing report) reaches the open pages before the server closes.
  await end.dashboard?.close();

  const tracks = [...end.records.values()];
  const streamClosed = conn.streamClosed;
  const doc: StatsDocument = {
    schema: 'kook-rtp/stats@1',
    target: conn.target,
    tracks,
    sender: senderStats,
    ...(streamClosed === undefined ? {} : { streamClosed }),
    ...(report === undefined ? {} : { emulator: report }),
  };
  let writeFailed = false;
  const statsPath = settings.outputs['stats-json'];
  if (statsPath) {
    try {
      await writeFile(statsPath, `${JSON.stringify(doc, null, 2)}\n`);
    } catch (err) {
      writeFailed = true;
      stderr.write(`kook-rtp: WRITE_FAILED: --stats-json ${statsPath}: ${(err as Error).message}\n`);
    }
  }
  if (report) {
    if (out.mode === 'json') out.event('report', { report });
    else if (out.mode !== 'quiet') stdout.write(`${formatReport(report)}\n`);
  } else if (senderStats) {
    out.info(`sent ${senderStats.packetsSent} packets, ${senderStats.bytes.rtp} RTP bytes, max 1 s bitrate ${senderStats.bitrate.maxBps} bps, lateness p99 ${senderStats.lateness.p99Ms.toFixed(2)} ms`);
    out.event('stats', { sender: senderStats });
  }

  if (end.signals.interrupted) return 130;
  const failed = tracks.filter((t) => t.reason !== 'finished' && !(settings.loop !== 'off' && t.reason === 'stopped'));
  if (report?.kicked) {
    stderr.write(`kook-rtp: STREAM_CLOSED: the emulator closed the stream: 1 s bitrate ${report.kicked.windowBitrate} bps over the limit ${report.kicked.limit} bps\n`);
    return 1;
  }
  if (streamClosed !== undefined) {
    stderr.write(`kook-rtp: STREAM_CLOSED: the far side closed the stream (${streamClosed})\n`);
    return 1;
  }
  if (failed.length > 0) {
    const first = failed[0]!;
    const why = first.error ? first.error.message : (first.reason ?? 'not played');
    stderr.write(`kook-rtp: ${first.error?.code ?? 'NOT_PLAYED'}: ${failed.length} of ${tracks.length} track(s) did not play; ${first.title}: ${why}\n`);
    return 1;
  }
  return writeFailed || recordFailed ? 1 : 0;
}
