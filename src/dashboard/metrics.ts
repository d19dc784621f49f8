/**
 * The dashboard's Prometheus metrics: a registry of its own (never prom-client's global one, so two dashboards or a
 * bot's own metrics never collide), with prom-client's default Node metrics and one series per row, labelled
 * `stream`. Values are read at scrape time from {@link DashboardSampler.scrape}: counters equal `sender.stats()` at
 * the scrape; the per-second bitrate is the last sample's.
 *
 * Names follow Prometheus conventions: base units (seconds, bytes, bits per second), `_total` on counters.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DashboardRow } from './sampler.js';

/** The lateness quantiles exported (the ones `sender.stats().lateness` gives). */
const LATENESS_QUANTILES = [
  ['0.5', 'p50Ms'],
  ['0.99', 'p99Ms'],
  ['0.999', 'p999Ms'],
] as const;

/** The metrics, and the hook that feeds them one scrape's rows. */
export interface DashboardMetrics {
  readonly registry: Registry;
  /** Renders the text exposition of `rows` (and the default Node metrics). */
  render(rows: readonly DashboardRow[]): Promise<string>;
}

type RowValue = (row: DashboardRow) => number | null | undefined;

/**
 * A summary whose quantiles come from elsewhere (the sender's own lateness histogram): prom-client's `Summary`
 * computes quantiles from its own observations, which would mean observing every packet.
 */
class ExternalSummary {
  readonly type = 'summary';
  readonly aggregator = 'sum';
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly rows: () => readonly DashboardRow[],
  ) {}

  collect(): void {}

  get(): { name: string; help: string; type: string; aggregator: string; values: { labels: Record<string, string>; value: number; metricName?: string }[] } {
    const values: { labels: Record<string, string>; value: number; metricName?: string }[] = [];
    for (const row of this.rows()) {
      const l = row.sender?.lateness;
      if (l === undefined) continue;
      for (const [q, key] of LATENESS_QUANTILES) values.push({ labels: { stream: row.name, quantile: q }, value: l[key] / 1000 });
      values.push({ metricName: `${this.name}_sum`, labels: { stream: row.name }, value: (l.meanMs * l.count) / 1000 });
      values.push({ metricName: `${this.name}_count`, labels: { stream: row.name }, value: l.count });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }
}

/**
 * Creates the registry and every metric.
 * @param defaultMetrics - include prom-client's default Node metrics (default true).
 */
export function createDashboardMetrics(defaultMetrics = true): DashboardMetrics {
  const registry = new Registry();
  // 100 ms: the event-loop delay monitor is a timer on the loop; at prom-client's default 10 ms it would wake the
  // host thread 100 times a second for a figure nobody reads more than once per scrape.
  if (defaultMetrics) collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 100 });
  let current: readonly DashboardRow[] = [];

  const counter = (name: string, help: string, value: RowValue): void => {
    new Counter({
      name,
      help,
      labelNames: ['stream'],
      registers: [registry],
      collect(this: Counter<'stream'>) {
        this.reset();
        for (const row of current) {
          const v = value(row);
          if (v !== null && v !== undefined && Number.isFinite(v)) this.inc({ stream: row.name }, Math.max(0, v));
        }
      },
    });
  };
  const gauge = (name: string, help: string, value: RowValue, extra?: (row: DashboardRow) => Record<string, string>): void => {
    new Gauge({
      name,
      help,
      labelNames: extra === undefined ? ['stream'] : ['stream', 'layer'],
      registers: [registry],
      collect(this: Gauge<string>) {
        this.reset();
        for (const row of current) {
          const v = value(row);
          if (v !== null && v !== undefined && Number.isFinite(v)) this.set({ stream: row.name, ...(extra?.(row) ?? {}) }, v);
        }
      },
    });
  };
  const ms = (v: number | null | undefined): number | null | undefined => (v === null || v === undefined ? v : v / 1000);

  // ---------------------------------------------------------------- sender side (senders, players, sessions)
  counter('kook_rtp_packets_sent_total', 'RTP packets sent (silence frames included).', (r) => r.sender?.packets);
  counter('kook_rtp_silence_frames_sent_total', 'Opus silence frames sent.', (r) => r.sender?.silenceFrames);
  new Counter({
    name: 'kook_rtp_sent_bytes_total',
    help: 'Bytes sent: layer="payload" (Opus), "rtp" (RTP header + payload), "ip" (RTP + UDP/IP headers).',
    labelNames: ['stream', 'layer'],
    registers: [registry],
    collect(this: Counter<'stream' | 'layer'>) {
      this.reset();
      for (const row of current) {
        const b = row.sender?.bytes;
        if (b === undefined) continue;
        this.inc({ stream: row.name, layer: 'payload' }, b.payload);
        this.inc({ stream: row.name, layer: 'rtp' }, b.rtp);
        this.inc({ stream: row.name, layer: 'ip' }, b.ip);
      }
    },
  });
  gauge(
    'kook_rtp_bitrate_bits_per_second',
    'RTP bitrate (header + payload) over the last sample second; for emulator rows, as received.',
    (r) => r.point.bps,
  );
  gauge('kook_rtp_bitrate_max_bits_per_second', 'Highest RTP bitrate over any 1 s window (sender: its own meter; emulator: as received).', (r) => r.sender?.maxBps ?? r.emulator?.maxBitrate1sBps);
  gauge('kook_rtp_room_bitrate_bits_per_second', "The room's bitrate limit; KOOK closes a stream over 120% of it.", (r) => r.limitBps);
  registry.registerMetric(
    new ExternalSummary('kook_rtp_send_lateness_seconds', 'Send lateness (actual minus scheduled send time), from the start of the stream.', () => current) as unknown as Counter,
  );
  gauge('kook_rtp_send_lateness_max_seconds', 'The largest send lateness so far.', (r) => ms(r.sender?.lateness.maxMs));
  counter('kook_rtp_stalls_total', 'Event-loop stalls that re-anchored the send schedule.', (r) => r.sender?.stalls);
  counter('kook_rtp_underruns_total', 'Send deadlines that found no frame ready.', (r) => r.sender?.underruns);
  gauge('kook_rtp_guard_backlog_seconds', 'How far the bitrate guard holds sending behind the media schedule now.', (r) => ms(r.sender?.guard?.backlogMs));
  gauge('kook_rtp_guard_backlog_max_seconds', 'The largest guard backlog so far.', (r) => ms(r.sender?.guard?.maxBacklogMs));
  counter('kook_rtp_guard_delayed_packets_total', 'Packets the bitrate guard held back.', (r) => r.sender?.guard?.delayedPackets);
  counter('kook_rtp_send_errors_total', 'Datagrams that failed to send.', (r) => r.sender?.sendErrors);
  gauge('kook_rtp_remote_fraction_lost', 'Fraction of our packets lost, from the last RTCP report of the far end (0-1).', (r) => r.sender?.remote?.fractionLost);
  gauge('kook_rtp_remote_cumulative_lost', 'Packets lost since the start, from the last RTCP report of the far end.', (r) => r.sender?.remote?.cumulativeLost);
  gauge('kook_rtp_remote_jitter_seconds', 'Interarrival jitter, from the last RTCP report of the far end.', (r) => ms(r.sender?.remote?.jitterMs));
  gauge('kook_rtp_remote_rtt_seconds', 'Round-trip time computed from the last RTCP report of the far end.', (r) => ms(r.sender?.remote?.rttMs));
  gauge('kook_rtp_track_position_seconds', 'Position in the track playing.', (r) => (r.player?.title === null || r.player === undefined ? undefined : r.player.positionSec));
  gauge('kook_rtp_queue_length', 'Items waiting in the player queue (the current one excluded).', (r) => r.player?.queue.length);
  counter('kook_rtp_stream_closed_total', 'Times the far side closed a session stream (kick, reclaim).', (r) => r.session?.streamClosed);

  // ---------------------------------------------------------------- emulator side (one row per emulated stream)
  counter('kook_rtp_emulator_packets_received_total', 'RTP packets the emulator accepted from the bound source.', (r) => r.emulator?.packets);
  counter('kook_rtp_emulator_received_bytes_total', 'RTP bytes (header + payload) the emulator accepted.', (r) => r.emulator?.bytes);
  gauge('kook_rtp_emulator_lost_packets', 'Packets expected but not received (can go down when late packets arrive).', (r) => r.emulator?.lost);
  gauge('kook_rtp_emulator_jitter_seconds', 'Interarrival jitter measured by the emulator (RFC 3550 A.8).', (r) => ms(r.emulator?.jitterMs));
  gauge('kook_rtp_emulator_gap_seconds', 'Time since the last packet arrived, at the last sample (live streams).', (r) => ms(r.emulator?.sinceLastPacketMs));
  counter('kook_rtp_emulator_kicks_total', 'Streams the emulator closed for going over the 120% bitrate line.', (r) => (r.emulator === undefined ? undefined : r.emulator.kicked === null ? 0 : 1));
  counter('kook_rtp_emulator_ssrc_mismatches_total', 'Packets with an SSRC other than the one join answered.', (r) => r.emulator?.ssrcMismatches);
  counter('kook_rtp_emulator_pt_mismatches_total', 'Packets with a payload type other than the one join answered.', (r) => r.emulator?.ptMismatches);
  counter('kook_rtp_emulator_dropped_other_source_total', 'Datagrams dropped because they came from a source other than the bound one.', (r) => r.emulator?.droppedFromOtherSources);
  gauge('kook_rtp_emulator_level_dbfs', 'RMS level of the decoded audio, dBFS.', (r) => r.emulator?.levelDbfs);

  // One scrape at a time: the collectors read `current` across the turns of one rendering.
  let queue: Promise<unknown> = Promise.resolve();
  const renderNow = async (rows: readonly DashboardRow[]): Promise<string> => {
    current = rows;
    try {
      const parts: string[] = [];
      // One metric family per turn of the event loop: with hundreds of streams, rendering them all at once
      // (registry.metrics()) blocks the loop for tens of ms, long enough to delay the streams' packets.
      for (const metric of registry.getMetricsAsArray()) {
        parts.push(await registry.getSingleMetricAsString(metric.name));
        await nextTurn();
      }
      // The same text registry.metrics() gives in the Prometheus format.
      return `${parts.join('\n\n')}\n`;
    } finally {
      current = [];
    }
  };
  return {
    registry,
    render(rows) {
      const result = queue.then(() => renderNow(rows));
      queue = result.catch(() => undefined);
      return result;
    },
  };
}
