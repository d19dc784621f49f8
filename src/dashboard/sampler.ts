/**
 * The dashboard's one clock: once a second it reads every watched object (never per packet), turns cumulative
 * counters into per-second figures (bitrate from the byte counter's delta, mean lateness from the lateness sum's
 * delta: for a sender, between its own once-a-second progress events when it emits them, else between samples), and
 * keeps a few minutes of history per row. What it produces is plain JSON-ready data, the same for the
 * page (Server-Sent Events) and for /metrics.
 */
import type { KookStreamReport } from '../emulator/kook/stream.js';
import { KookRtpError } from '../errors.js';
import {
  type DashboardAddOptions,
  type DashboardRowKind,
  type DashboardSource,
  type EmulatorWatch,
  type PlayerView,
  type SenderStats,
  type SessionView,
  type StreamWatch,
  watch,
} from './sources.js';

/** KOOK closes a stream whose 1 s bitrate goes over 120% of the room's. */
export const KOOK_KICK_RATIO = 1.2;

/** One second of one row: what the chart plots. `null` where there is nothing to say. */
export interface DashboardPoint {
  /** Unix ms of the sample. */
  readonly t: number;
  /** RTP bits (header + payload) per second: over the sender's last progress second, else since the previous sample. */
  readonly bps: number | null;
  /** Mean send lateness of the packets sent since the previous sample, ms (sender side). */
  readonly latenessMs: number | null;
  /** Guard backlog at the sample, ms (sender side). */
  readonly backlogMs: number | null;
  /** Time since the last packet arrived, at the sample, ms (emulator side: the receiver's gap). */
  readonly gapMs: number | null;
  /** Interarrival jitter measured by the receiver, ms (emulator side). */
  readonly jitterMs: number | null;
}

/** The sender part of a row: `sender.stats()` as the page shows it. */
export interface SenderView {
  readonly status: string;
  readonly ssrc: number;
  readonly packets: number;
  readonly silenceFrames: number;
  readonly bytes: { readonly payload: number; readonly rtp: number; readonly ip: number };
  /** The sender's own figures: last 1 s window and the highest 1 s window, bits/s. */
  readonly currentBps: number;
  readonly maxBps: number;
  readonly lateness: { readonly count: number; readonly p50Ms: number; readonly p99Ms: number; readonly p999Ms: number; readonly maxMs: number; readonly meanMs: number };
  readonly stalls: number;
  readonly underruns: number;
  readonly guard: {
    readonly backlogMs: number;
    readonly maxBacklogMs: number;
    readonly delayedPackets: number;
    readonly windowBytes: number;
    readonly limitBytes: number;
    readonly adviceActive: boolean;
  } | null;
  readonly remote: { readonly fractionLost: number; readonly cumulativeLost: number; readonly jitterMs: number; readonly rttMs: number | null } | null;
  readonly rtcp: { readonly srSent: number; readonly rrSent: number; readonly reportsReceived: number };
  readonly sendErrors: number;
  readonly queued: number;
}

/** The emulator part of a row: one stream's report as the page shows it. */
export interface EmulatorView {
  readonly channelId: string;
  readonly port: number;
  readonly source: string | null;
  readonly ssrc: number;
  readonly payloadType: number;
  readonly packets: number;
  readonly bytes: number;
  readonly lost: number;
  readonly duplicates: number;
  readonly outOfOrder: number;
  readonly jitterMs: number;
  readonly maxBitrate1sBps: number;
  readonly kicked: { readonly windowBitrate: number; readonly limit: number; readonly atMs: number } | null;
  readonly reclaimed: boolean;
  readonly closeReason: string | null;
  readonly ssrcMismatches: number;
  readonly ptMismatches: number;
  readonly droppedFromOtherSources: number;
  readonly levelDbfs: number | null;
  readonly peakDbfs: number | null;
  readonly sinceLastPacketMs: number | null;
  readonly keepAlives: number;
  readonly rtcp: { readonly srs: number; readonly rrsSent: number; readonly byes: number; readonly cname: string | null };
}

/** Everything shown for one row at one sample. */
export interface DashboardRow {
  /** Unique and stable; also the `stream` label in /metrics. */
  readonly name: string;
  readonly kind: DashboardRowKind;
  /** `playing`, `idle`, `closed`, `live`, `kicked`, ... */
  readonly status: string;
  /** The room's bitrate and the kick line, bits/s (null when unknown). */
  readonly limitBps: number | null;
  readonly kickBps: number | null;
  readonly point: DashboardPoint;
  readonly sender?: SenderView;
  readonly player?: PlayerView;
  readonly session?: SessionView;
  readonly emulator?: EmulatorView;
}

/** What one sample changed. */
export interface DashboardTick {
  readonly t: number;
  readonly rows: readonly DashboardRow[];
  /** Rows gone since the previous sample. */
  readonly removed: readonly string[];
}

/** Options of {@link DashboardSampler}. */
export interface DashboardSamplerOptions {
  /** Points kept per row. Default 300 (5 minutes at 1 s). */
  readonly historyLength?: number;
  /** Finished emulator streams kept on the page per emulator. Default 20. */
  readonly keepFinished?: number;
  /** Wall clock, Unix ms (tests). */
  readonly now?: () => number;
}

interface Baseline {
  sender: object | undefined;
  t: number;
  bytes: number;
  latenessSum: number;
  latenessCount: number;
}

interface StreamEntry {
  readonly kind: 'stream';
  readonly name: string;
  readonly watch: StreamWatch;
  base: Baseline | undefined;
  history: DashboardPoint[];
  last: DashboardRow | undefined;
}

interface EmulatorStream {
  readonly name: string;
  base: { t: number; bytes: number } | undefined;
  history: DashboardPoint[];
  last: DashboardRow | undefined;
  ended: boolean;
}

interface EmulatorEntry {
  readonly kind: 'emulator';
  readonly name: string;
  readonly watch: EmulatorWatch;
  /** Report key (channel, port, start) to its row. */
  readonly streams: Map<string, EmulatorStream>;
  /** Keys of finished streams dropped from the page. */
  readonly dropped: Set<string>;
  readonly perChannel: Map<string, number>;
}

type Entry = StreamEntry | EmulatorEntry;

const reportKey = (r: KookStreamReport): string => `${r.channelId}:${r.port}:${r.startedAt}`;

/** See the module comment. Sampling is driven from outside ({@link DashboardSampler.sample}), so tests need no timers. */
export class DashboardSampler {
  readonly #entries: Entry[] = [];
  readonly #historyLength: number;
  readonly #keepFinished: number;
  readonly #now: () => number;
  readonly #counts = new Map<string, number>();
  #removed: string[] = [];

  constructor(options: DashboardSamplerOptions = {}) {
    this.#historyLength = options.historyLength ?? 300;
    this.#keepFinished = options.keepFinished ?? 20;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Starts watching a source.
   * @returns its name (the row's name; for an emulator, the prefix of its streams' rows).
   * @throws {@link KookRtpError} `INVALID_ARGUMENT` for an object the dashboard cannot show, a source already added,
   *   or a name already taken.
   */
  add(source: DashboardSource, options: DashboardAddOptions = {}): string {
    if (this.#entries.some((e) => e.watch.source === source)) {
      throw new KookRtpError('INVALID_ARGUMENT', 'this object is already on the dashboard');
    }
    const w = watch(source, options);
    const name = options.name ?? this.#defaultName(w.kind);
    if (name.length === 0 || this.#entries.some((e) => e.name === name)) {
      w.dispose();
      throw new KookRtpError('INVALID_ARGUMENT', `the dashboard already has a row named "${name}": pass another { name }`);
    }
    if (w.kind === 'emulator') {
      this.#entries.push({ kind: 'emulator', name, watch: w, streams: new Map(), dropped: new Set(), perChannel: new Map() });
    } else {
      this.#entries.push({ kind: 'stream', name, watch: w, base: undefined, history: [], last: undefined });
    }
    return name;
  }

  /**
   * Stops watching a source (given as the object or the name {@link DashboardSampler.add} returned); its rows leave the
   * page at the next sample.
   * @returns whether it was watched.
   */
  remove(sourceOrName: DashboardSource | string): boolean {
    const i = this.#entries.findIndex((e) => (typeof sourceOrName === 'string' ? e.name === sourceOrName : e.watch.source === sourceOrName));
    if (i < 0) return false;
    const [e] = this.#entries.splice(i, 1) as [Entry];
    e.watch.dispose();
    if (e.kind === 'stream') this.#removed.push(e.name);
    else for (const s of e.streams.values()) this.#removed.push(s.name);
    return true;
  }

  /** Stops watching everything. */
  clear(): void {
    while (this.#entries.length > 0) this.remove(this.#entries[0]!.watch.source);
  }

  /** Reads every source once, appends one point per row, and returns the rows. */
  sample(): DashboardTick {
    const t = this.#now();
    const rows: DashboardRow[] = [];
    for (const e of this.#entries) {
      if (e.kind === 'stream') rows.push(this.#sampleStream(e, t));
      else rows.push(...this.#sampleEmulator(e, t));
    }
    const removed = this.#removed;
    this.#removed = [];
    return { t, rows, removed };
  }

  /** The rows as of the last sample. */
  rows(): DashboardRow[] {
    const out: DashboardRow[] = [];
    for (const e of this.#entries) {
      if (e.kind === 'stream') {
        if (e.last !== undefined) out.push(e.last);
      } else {
        for (const s of e.streams.values()) if (s.last !== undefined) out.push(s.last);
      }
    }
    return out;
  }

  /** The points kept for every row, by name. */
  history(): Record<string, readonly DashboardPoint[]> {
    const out: Record<string, readonly DashboardPoint[]> = {};
    for (const e of this.#entries) {
      if (e.kind === 'stream') out[e.name] = e.history;
      else for (const s of e.streams.values()) out[s.name] = s.history;
    }
    return out;
  }

  /**
   * Fresh counters for a /metrics scrape: every source read again now (so counters equal `sender.stats()` at the
   * scrape), with the per-second figures of the last sample. Changes no history.
   */
  scrape(): DashboardRow[] {
    const t = this.#now();
    const out: DashboardRow[] = [];
    for (const e of this.#entries) {
      if (e.kind === 'stream') {
        const point = e.last?.point ?? emptyPoint(t);
        out.push(streamRow(e, point));
      } else {
        const seen = new Set<string>();
        for (const r of e.watch.reports()) {
          const s = e.streams.get(reportKey(r));
          if (s === undefined || seen.has(s.name)) continue;
          seen.add(s.name);
          out.push(emulatorRow(s.name, r, s.last?.point ?? emptyPoint(t), t));
        }
      }
    }
    return out;
  }

  #defaultName(kind: DashboardRowKind): string {
    for (;;) {
      const n = (this.#counts.get(kind) ?? 0) + 1;
      this.#counts.set(kind, n);
      const name = `${kind}-${n}`;
      if (!this.#entries.some((e) => e.name === name)) return name;
    }
  }

  #push(history: DashboardPoint[], point: DashboardPoint): void {
    history.push(point);
    if (history.length > this.#historyLength) history.splice(0, history.length - this.#historyLength);
  }

  #sampleStream(e: StreamEntry, t: number): DashboardRow {
    const read = e.watch.read();
    const stats = read.stats;
    let point: DashboardPoint;
    if (stats === undefined) {
      point = emptyPoint(t);
      e.base = undefined;
    } else {
      const latenessSum = stats.lateness.meanMs * stats.lateness.count;
      const base = e.base;
      let bps: number;
      let latenessMs: number | null = null;
      const progress = read.progress;
      if (progress !== undefined && progress.ageMs < 2500) {
        // The sender's own seconds (see ProgressMeter in sources.ts).
        bps = progress.bps;
        latenessMs = progress.latenessMs;
      } else if (read.followsProgress) {
        // Before its second progress event: the sender's own last-second window, as of its last snapshot (a delta
        // on this timer could compare a snapshot with itself).
        bps = stats.bitrate.currentBps;
      } else if (base !== undefined && base.sender === read.sender && stats.bytes.rtp >= base.bytes && t > base.t) {
        bps = Math.round(((stats.bytes.rtp - base.bytes) * 8 * 1000) / (t - base.t));
        const dn = stats.lateness.count - base.latenessCount;
        if (dn > 0) latenessMs = Math.max(0, (latenessSum - base.latenessSum) / dn);
      } else {
        // No baseline yet (or a new sender after a rejoin): the sender's own last 1 s window.
        bps = stats.bitrate.currentBps;
      }
      e.base = { sender: read.sender, t, bytes: stats.bytes.rtp, latenessSum, latenessCount: stats.lateness.count };
      point = { t, bps, latenessMs, backlogMs: stats.guard?.backlogMs ?? null, gapMs: null, jitterMs: null };
    }
    this.#push(e.history, point);
    e.last = streamRowFromRead(e, read, point);
    return e.last;
  }

  #sampleEmulator(e: EmulatorEntry, t: number): DashboardRow[] {
    const rows: DashboardRow[] = [];
    for (const r of e.watch.reports()) {
      const key = reportKey(r);
      if (e.dropped.has(key)) continue;
      let s = e.streams.get(key);
      if (s === undefined) {
        const n = (e.perChannel.get(r.channelId) ?? 0) + 1;
        e.perChannel.set(r.channelId, n);
        s = { name: `${e.name}/${r.channelId}#${n}`, base: undefined, history: [], last: undefined, ended: false };
        e.streams.set(key, s);
      }
      if (s.ended && s.last !== undefined) {
        rows.push(s.last);
        continue;
      }
      let bps: number | null = null;
      if (s.base !== undefined && t > s.base.t && r.bytes >= s.base.bytes) {
        bps = Math.round(((r.bytes - s.base.bytes) * 8 * 1000) / (t - s.base.t));
      } else if (r.firstPacketAt !== null) {
        // First sight of a stream: its mean rate so far (a stream kicked within its first second gets a point too).
        const ms = (r.endedAt ?? t) - r.firstPacketAt;
        if (ms >= 100) bps = Math.round((r.bytes * 8 * 1000) / ms);
      }
      s.base = { t, bytes: r.bytes };
      const live = r.endedAt === null;
      const point: DashboardPoint = {
        t,
        bps,
        latenessMs: null,
        backlogMs: null,
        gapMs: live && r.lastPacketAt !== null ? Math.max(0, t - r.lastPacketAt) : null,
        jitterMs: r.firstPacketAt === null ? null : r.jitterMs,
      };
      this.#push(s.history, point);
      s.last = emulatorRow(s.name, r, point, t);
      if (!live) s.ended = true;
      rows.push(s.last);
    }
    // Keep the page short: drop the oldest finished streams past the limit.
    const finished = [...e.streams.entries()].filter(([, s]) => s.ended);
    for (const [key, s] of finished.slice(0, Math.max(0, finished.length - this.#keepFinished))) {
      e.streams.delete(key);
      e.dropped.add(key);
      this.#removed.push(s.name);
      const i = rows.findIndex((row) => row.name === s.name);
      if (i >= 0) rows.splice(i, 1);
    }
    return rows;
  }
}

function emptyPoint(t: number): DashboardPoint {
  return { t, bps: null, latenessMs: null, backlogMs: null, gapMs: null, jitterMs: null };
}

function streamRow(e: StreamEntry, point: DashboardPoint): DashboardRow {
  return streamRowFromRead(e, e.watch.read(), point);
}

function streamRowFromRead(e: StreamEntry, read: ReturnType<StreamWatch['read']>, point: DashboardPoint): DashboardRow {
  const stats = read.stats;
  const limit = read.roomBps;
  const status = read.player?.status === 'playing' || read.player?.status === 'paused' || read.player?.status === 'loading' ? read.player.status : (stats?.status ?? (read.session?.joined === false ? 'not joined' : 'new'));
  return {
    name: e.name,
    kind: e.watch.kind,
    status,
    limitBps: limit,
    kickBps: limit === null ? null : Math.round(limit * KOOK_KICK_RATIO),
    point,
    ...(stats === undefined ? {} : { sender: senderView(stats) }),
    ...(read.player === undefined ? {} : { player: read.player }),
    ...(read.session === undefined ? {} : { session: read.session }),
  };
}

function senderView(s: SenderStats): SenderView {
  const g = s.guard;
  const r = s.remote;
  return {
    status: s.status,
    ssrc: s.ssrc,
    packets: s.packetsSent,
    silenceFrames: s.silenceFramesSent,
    bytes: { payload: s.bytes.payload, rtp: s.bytes.rtp, ip: s.bytes.ip },
    currentBps: s.bitrate.currentBps,
    maxBps: s.bitrate.maxBps,
    lateness: {
      count: s.lateness.count,
      p50Ms: s.lateness.p50Ms,
      p99Ms: s.lateness.p99Ms,
      p999Ms: s.lateness.p999Ms,
      maxMs: s.lateness.maxMs,
      meanMs: s.lateness.meanMs,
    },
    stalls: s.stalls,
    underruns: s.underruns,
    guard:
      g === undefined
        ? null
        : {
            backlogMs: g.backlogMs,
            maxBacklogMs: g.maxBacklogMs,
            delayedPackets: g.delayedPackets,
            windowBytes: g.windowBytes,
            limitBytes: g.limitBytes,
            adviceActive: g.adviceActive,
          },
    remote: r === undefined ? null : { fractionLost: r.fractionLost, cumulativeLost: r.cumulativeLost, jitterMs: r.jitterMs, rttMs: r.rttMs ?? null },
    rtcp: { srSent: s.rtcp.srSent, rrSent: s.rtcp.rrSent, reportsReceived: s.rtcp.reportsReceived },
    sendErrors: s.sendErrors,
    queued: s.queued,
  };
}

function emulatorRow(name: string, r: KookStreamReport, point: DashboardPoint, t: number): DashboardRow {
  const status = r.kicked !== undefined ? 'kicked' : r.reclaimed !== undefined ? 'reclaimed' : (r.closeReason ?? (r.source === null ? 'waiting' : 'live'));
  return {
    name,
    kind: 'emulator',
    status,
    limitBps: r.bitrate,
    kickBps: Math.round(r.bitrate * r.killRatio),
    point,
    emulator: {
      channelId: r.channelId,
      port: r.port,
      source: r.source,
      ssrc: r.ssrc,
      payloadType: r.payloadType,
      packets: r.packets,
      bytes: r.bytes,
      lost: r.lost,
      duplicates: r.duplicates,
      outOfOrder: r.outOfOrder,
      jitterMs: r.jitterMs,
      maxBitrate1sBps: r.maxBitrate1s,
      kicked: r.kicked === undefined ? null : { windowBitrate: r.kicked.windowBitrate, limit: r.kicked.limit, atMs: r.kicked.atMs },
      reclaimed: r.reclaimed !== undefined,
      closeReason: r.closeReason,
      ssrcMismatches: r.ssrcMismatches,
      ptMismatches: r.ptMismatches,
      droppedFromOtherSources: r.droppedFromOtherSources,
      levelDbfs: r.levelDbfs,
      peakDbfs: r.peakDbfs,
      sinceLastPacketMs: r.endedAt === null && r.lastPacketAt !== null ? Math.max(0, t - r.lastPacketAt) : null,
      keepAlives: r.keepAlives,
      rtcp: { srs: r.rtcp.srs, rrsSent: r.rtcp.rrsSent, byes: r.rtcp.byes, cname: r.rtcp.cname },
    },
  };
}
