/**
 * What the CLI prints while playing: a progress bar per track on a terminal, plain lines otherwise, JSON lines with
 * `--json`, nothing but errors with `--quiet`.
 */
import type { PlayerProgress, QueueItem } from '../engine/player.js';
import type { TrackInfo } from '../media/probe.js';
import { isKookRtpError } from '../errors.js';

/** How to print. */
export type OutputMode = 'tty' | 'plain' | 'json' | 'quiet';

/** Picks the mode from the flags and whether stdout is a terminal. */
export function outputMode(flags: { json?: boolean; quiet?: boolean }, isTty: boolean): OutputMode {
  if (flags.json) return 'json';
  if (flags.quiet) return 'quiet';
  return isTty ? 'tty' : 'plain';
}

/** Formats seconds as m:ss (or h:mm:ss). */
export function formatTime(sec: number): string {
  const s = Math.max(0, Math.floor(sec));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/**
 * One progress line: `[#######.......] 0:12/3:00  46.1/48.0 kbps  title`. The bar has `width` cells.
 */
export function progressLine(p: { positionSec: number; durationSec?: number; bitrateBps: number; limitBps: number; title: string }, width = 24): string {
  const total = p.durationSec;
  const frac = total !== undefined && total > 0 ? Math.min(1, p.positionSec / total) : 0;
  const filled = Math.round(frac * width);
  const bar = total !== undefined ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ` : '';
  const time = `${formatTime(p.positionSec)}${total !== undefined ? `/${formatTime(total)}` : ''}`;
  const pct = p.limitBps > 0 ? Math.round((p.bitrateBps / p.limitBps) * 100) : 0;
  const rate = `${(p.bitrateBps / 1000).toFixed(1)}/${(p.limitBps / 1000).toFixed(1)} kbps (${pct}%)`;
  return `${bar}${time}  ${rate}  ${p.title}`;
}

/** Prints player events in the chosen mode. */
export class CliOutput {
  readonly #mode: OutputMode;
  readonly #out: NodeJS.WritableStream;
  #lastPlain = 0;
  #barShown = false;

  constructor(mode: OutputMode, out: NodeJS.WritableStream = process.stdout) {
    this.#mode = mode;
    this.#out = out;
  }

  get mode(): OutputMode {
    return this.#mode;
  }

  /** A line of information (not in quiet or JSON mode). */
  info(text: string): void {
    if (this.#mode === 'tty' || this.#mode === 'plain') {
      this.#clearBar();
      this.#out.write(`${text}\n`);
    }
  }

  /** A JSON event (JSON mode only). */
  event(type: string, data: Record<string, unknown>): void {
    if (this.#mode === 'json') this.#out.write(`${JSON.stringify({ type, ...data })}\n`);
  }

  trackStart(item: QueueItem, info: TrackInfo): void {
    const d = info.durationSec === undefined ? '' : ` ${formatTime(info.durationSec)}`;
    this.info(`▶ ${item.title} (${info.container}/${info.codec}, ${info.mode}${d})`);
    this.event('trackStart', { id: item.id, title: item.title, info });
  }

  trackEnd(item: QueueItem, reason: string, playedSec: number, error?: { code: string; message: string }): void {
    const why = error === undefined ? reason : `${reason}: ${error.code}: ${error.message}`;
    this.info(`■ ${item.title} ${why} after ${formatTime(playedSec)}`);
    this.event('trackEnd', { id: item.id, title: item.title, reason, playedSec, ...(error === undefined ? {} : { error }) });
  }

  progress(p: PlayerProgress): void {
    const line = progressLine({ ...p, title: p.item.title });
    if (this.#mode === 'tty') {
      this.#out.write(`\r\x1b[2K${line}`);
      this.#barShown = true;
    } else if (this.#mode === 'plain') {
      // A line every 5 s keeps logs readable.
      const now = Date.now();
      if (now - this.#lastPlain >= 5000) {
        this.#lastPlain = now;
        this.#out.write(`${line}\n`);
      }
    } else if (this.#mode === 'json') {
      this.event('progress', {
        id: p.item.id,
        positionSec: Math.round(p.positionSec * 1000) / 1000,
        ...(p.durationSec === undefined ? {} : { durationSec: p.durationSec }),
        bitrateBps: p.bitrateBps,
        limitBps: p.limitBps,
      });
    }
  }

  /** Ends the progress bar line before other output. */
  done(): void {
    this.#clearBar();
  }

  #clearBar(): void {
    if (this.#barShown) {
      this.#out.write('\r\x1b[2K');
      this.#barShown = false;
    }
  }
}

/**
 * `CODE: message` for any error: ours carry a code; Node's system errors their errno code (`ENOENT`); anything else
 * is reported as `INTERNAL`, so a script can always split the line on the first colon.
 */
export function describeError(err: unknown): string {
  if (isKookRtpError(err)) return `${err.code}: ${err.message}`;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : String(err);
  return `${typeof code === 'string' && /^[A-Z0-9_]+$/.test(code) ? code : 'INTERNAL'}: ${message}`;
}

/** Which Opus encoder runs: the native binding, or the WebAssembly fallback and why (see the README's Set-up). */
export function opusBackendLine(b: { backend: 'native' | 'opusscript'; nativeError?: string }): string {
  if (b.backend === 'native') return 'Opus encoder: native (@discordjs/opus)';
  return `Opus encoder: opusscript (WebAssembly; the native module did not load${b.nativeError === undefined ? '' : `: ${b.nativeError.split('\n')[0]}`})`;
}
