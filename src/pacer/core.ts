/**
 * The pacer thread's core: every stream of the process on one {@link Scheduler}, driven by plain commands, reporting
 * in batches. The worker file (`worker.ts`) wires it to a MessagePort; tests can drive it directly.
 */

import type { PacketTransport } from '../transport/transport.js';
import type { PacerBatch, PacerCommand, PacerReply, PacerTarget, StreamNews } from './protocol.js';
import type { PackedFrames } from './protocol.js';
import type { Scheduler } from './scheduler.js';
import { PacedStream } from './stream.js';

/** What the core needs from its shell. */
export interface PacerCoreDeps {
  readonly scheduler: Scheduler;
  openTransport(target: PacerTarget): Promise<PacketTransport>;
  /** Sends a reply to the host (with the buffers to transfer). */
  post(reply: PacerReply, transfer?: ArrayBuffer[]): void;
  /** News are held this long at most before a batch goes out, ms. Default 10. */
  readonly flushMs?: number;
  /** See {@link PacedStream}'s `phaseGridMs`. Default 2. */
  readonly phaseGridMs?: number;
}

interface Entry {
  stream: PacedStream | undefined;
  /** Commands that arrived while the transport was opening (with a push's frames). */
  pending: { cmd: PacerCommand; frames: PackedFrames | undefined }[];
  news: StreamNews;
  packets: boolean;
  closing: boolean;
  wantStats: boolean;
}

/** See the module comment. */
export class PacerCore {
  readonly #deps: PacerCoreDeps;
  readonly #streams = new Map<number, Entry>();
  readonly #dirty = new Set<Entry>();
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  readonly #flushMs: number;

  constructor(deps: PacerCoreDeps) {
    this.#deps = deps;
    this.#flushMs = deps.flushMs ?? 10;
  }

  /** Streams open or opening. */
  get size(): number {
    return this.#streams.size;
  }

  /** Carries out a batch of commands, in order. */
  handleBatch(batch: PacerBatch): void {
    for (const cmd of batch.cmds) this.handle(cmd, batch.frames);
  }

  /** Carries out one command; `frames` are the enclosing batch's (for pushes). */
  handle(cmd: PacerCommand, frames?: PackedFrames): void {
    if (cmd.op === 'crash') {
      throw new Error('pacer crash requested');
    }
    if (cmd.op === 'open') {
      this.#open(cmd);
      return;
    }
    const e = this.#streams.get(cmd.id);
    if (e === undefined) return;
    if (e.stream === undefined) {
      e.pending.push({ cmd, frames });
      return;
    }
    this.#apply(e, e.stream, cmd, frames);
  }

  #apply(e: Entry, s: PacedStream, cmd: PacerCommand, frames: PackedFrames | undefined): void {
    switch (cmd.op) {
      case 'push':
        if (frames !== undefined) s.pushPacked(cmd.seg, frames, cmd.start, cmd.count, cmd.epoch);
        break;
      case 'truncate':
        s.truncate(cmd.seg, cmd.keep, cmd.epoch);
        break;
      case 'end':
        s.end(cmd.seg, cmd.endSilence);
        break;
      case 'flush':
        s.flush(cmd.seg, cmd.silence);
        break;
      case 'pause':
        s.pause();
        break;
      case 'resume':
        s.resume();
        break;
      case 'resetLateness':
        s.resetLateness();
        break;
      case 'close':
        this.#close(e, s, cmd.id);
        break;
      default:
        break;
    }
  }

  #open(cmd: Extract<PacerCommand, { op: 'open' }>): void {
    const news: StreamNews = { id: cmd.id, events: [], consumed: 0 };
    const entry: Entry = { stream: undefined, pending: [], news, packets: cmd.packets, closing: false, wantStats: false };
    this.#streams.set(cmd.id, entry);
    this.#deps.openTransport(cmd.target).then(
      (transport) => {
        let stream: PacedStream;
        try {
          stream = new PacedStream(cmd.config, {
            scheduler: this.#deps.scheduler,
            transport,
            refillAt: cmd.refillAt,
            phaseGridMs: this.#deps.phaseGridMs ?? 2,
            listener: {
              event: (ev) => {
                entry.news.events.push(ev);
                this.#markDirty(entry, ev.type === 'progress' || ev.type === 'segmentEnd' || ev.type === 'state');
                if (ev.type === 'truncated') this.#flushNow();
              },
              space: (consumed) => {
                entry.news.consumed = consumed;
                this.#markDirty(entry, false);
              },
            },
            ...(cmd.packets
              ? {
                  onPacket: (bytes, kind, time) => {
                    (entry.news.packets ??= []).push({ bytes: bytes.slice(), kind, time });
                    this.#markDirty(entry, false);
                  },
                }
              : {}),
          });
        } catch (err) {
          void transport.close();
          this.#streams.delete(cmd.id);
          this.#deps.post({ type: 'openFailed', id: cmd.id, error: errorData(err) });
          return;
        }
        entry.stream = stream;
        this.#deps.post({ type: 'opened', id: cmd.id, info: transport.info });
        const pending = entry.pending;
        entry.pending = [];
        for (const c of pending) this.#apply(entry, stream, c.cmd, c.frames);
      },
      (err: unknown) => {
        this.#streams.delete(cmd.id);
        this.#deps.post({ type: 'openFailed', id: cmd.id, error: errorData(err) });
      },
    );
  }

  #close(e: Entry, s: PacedStream, id: number): void {
    if (e.closing) return;
    e.closing = true;
    void s.close().then(() => {
      this.#flushNow();
      this.#streams.delete(id);
      this.#dirty.delete(e);
      this.#deps.post({ type: 'closed', id, stats: s.stats() });
    });
  }

  /** Marks a stream's news for the next batch; `withStats` asks for a fresh snapshot in it. */
  #markDirty(e: Entry, withStats: boolean): void {
    if (withStats) e.wantStats = true;
    this.#dirty.add(e);
    this.#flushTimer ??= setTimeout(() => this.#flushNow(), this.#flushMs);
  }

  #flushNow(): void {
    if (this.#flushTimer !== undefined) clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    if (this.#dirty.size === 0) return;
    const news: StreamNews[] = [];
    const transfer: ArrayBuffer[] = [];
    for (const e of this.#dirty) {
      const n = e.news;
      const s = e.stream;
      if (s !== undefined) {
        n.consumed = s.consumed;
        if (e.wantStats) n.stats = s.stats();
      }
      if (n.packets !== undefined) for (const p of n.packets) transfer.push(p.bytes.buffer as ArrayBuffer);
      news.push(n);
      e.wantStats = false;
      e.news = { id: n.id, events: [], consumed: n.consumed };
    }
    this.#dirty.clear();
    this.#deps.post({ type: 'batch', news }, transfer);
  }
}

function errorData(err: unknown): { code: string; message: string } {
  const code = typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'SOCKET_ERROR';
  return { code, message: err instanceof Error ? err.message : String(err) };
}
