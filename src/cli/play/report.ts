/**
 * What a play leaves behind: the `--stats-json` document (schema `kook-rtp/stats@1`, described in the README), a
 * record per track, and the emulator's report as text.
 */
import type { TrackEnd } from '../../engine/player.js';
import type { KookStreamReport } from '../../emulator/kook/stream.js';
import type { TrackInfo } from '../../media/probe.js';
import type { SenderStats } from '../../pacer/stats.js';

/** One track of the play, as the stats document lists it. */
export interface TrackRecord {
  readonly title: string;
  reason?: TrackEnd['reason'];
  playedSec?: number;
  info?: TrackInfo;
  error?: { code: string; message: string };
}

/** The `--stats-json` document; its schema is described in the README. */
export interface StatsDocument {
  readonly schema: 'kook-rtp/stats@1';
  readonly target: {
    readonly kind: 'emulator' | 'kook' | 'rtp';
    readonly host: string;
    readonly port: number;
    readonly rtcpPort: number;
    readonly rtcpMux: boolean;
    readonly ssrc: number;
    readonly payloadType: number;
    readonly bitrate: number;
  };
  readonly tracks: readonly TrackRecord[];
  readonly sender: SenderStats | undefined;
  readonly streamClosed?: string;
  readonly emulator?: KookStreamReport;
}

/** The emulator's report as a short human-readable block. */
export function formatReport(r: KookStreamReport): string {
  const lines = [
    'KOOK emulator report',
    `  source            ${r.source ?? '-'}${r.rtcpMux ? ' (RTCP muxed)' : ` (RTCP from ${r.rtcpSource ?? '-'})`}`,
    `  ssrc / pt         ${r.ssrc} / ${r.payloadType}   mismatches: ssrc ${r.ssrcMismatches}, pt ${r.ptMismatches}`,
    `  packets           ${r.packets} (${r.bytes} bytes), lost ${r.lost}, duplicates ${r.duplicates}, out of order ${r.outOfOrder}`,
    `  from other sockets ${r.droppedFromOtherSources} dropped`,
    `  jitter            ${r.jitterMs.toFixed(3)} ms`,
    `  bitrate           max 1 s ${r.maxBitrate1s} bps, mean ${Math.round(r.meanBitrate)} bps, room ${r.bitrate} bps (kick above ${Math.round(r.bitrate * r.killRatio)})`,
    `  level             ${r.levelDbfs === null ? '-' : `${r.levelDbfs.toFixed(1)} dBFS`} (peak ${r.peakDbfs === null ? '-' : `${r.peakDbfs.toFixed(1)} dBFS`})`,
    `  rtcp              ${JSON.stringify(r.rtcp)}`,
    `  closed            ${r.closeReason ?? 'live'}${r.kicked ? ` — KICKED: ${JSON.stringify(r.kicked)}` : ''}${r.reclaimed ? ` — RECLAIMED: ${JSON.stringify(r.reclaimed)}` : ''}`,
  ];
  return lines.join('\n');
}
