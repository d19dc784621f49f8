/**
 * Helpers for the capture tests: loopback UDP sinks, a dumpcap capture on `lo`, tshark and ffmpeg runners, the CLI
 * (in process and as the spawned binary), and the signal maths (PCM loading, aligned cross-correlation).
 *
 * Every child process started here is ended by its own pid (SIGINT, then SIGKILL after a grace), never by name.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (absolute). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The CLI entry that `npm i -g` would put on PATH. */
export const BIN = join(ROOT, 'bin/kook-rtp.js');
/** Absolute path of a fixture in fixtures/media. */
export const fixture = (name: string): string => join(ROOT, 'fixtures/media', name);
/** True under CI, where a missing tool fails instead of skipping. */
export const IN_CI = process.env.CI === 'true';

function runs(cmd: string, args: readonly string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 15_000 });
    return true;
  } catch {
    return false;
  }
}

/** tshark runs. */
export const hasTshark = runs('tshark', ['-v']);
/** dumpcap runs and may open `lo` (listing its link types needs capture permission). */
export const canCaptureLo = runs('dumpcap', ['-L', '-i', 'lo']);
/** ffmpeg runs. */
export const hasFfmpeg = runs('ffmpeg', ['-version']);

/**
 * Decides whether a tool-dependent suite runs: yes when the tools are there, and under CI (where the suite's first
 * test then fails on the missing tool); otherwise no, with a visible warning.
 */
export function toolGate(what: string, missing: readonly string[]): boolean {
  if (missing.length === 0) return true;
  if (IN_CI) return true;
  console.warn(`[test/capture] skipping ${what}: missing ${missing.join(', ')} (these tests are required when CI=true)`);
  return false;
}

/** A fresh temp directory, and its removal. */
export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** UDP sockets bound on 127.0.0.1 that read and drop, so the kernel never answers ICMP port unreachable. */
export interface UdpSinks {
  readonly ports: readonly number[];
  /** Datagrams received per socket. */
  readonly received: readonly number[];
  close(): Promise<void>;
}

/** Binds `count` sink sockets on 127.0.0.1, on free ports the kernel picks. */
export async function openSinks(count: number): Promise<UdpSinks> {
  const sockets: Socket[] = [];
  const received: number[] = [];
  for (let i = 0; i < count; i++) {
    const s = createSocket('udp4');
    const index = i;
    received.push(0);
    s.on('message', () => {
      received[index] = (received[index] ?? 0) + 1;
    });
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(0, '127.0.0.1', () => {
        s.off('error', reject);
        resolve();
      });
    });
    s.on('error', () => {});
    sockets.push(s);
  }
  return {
    ports: sockets.map((s) => s.address().port),
    received,
    close: () => Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined),
  };
}

/** Sends SIGINT, then SIGKILL when the process has not exited after `graceMs`; resolves with its exit code. */
export function stopProcess(child: ChildProcess, graceMs = 5000): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      resolve(child.exitCode);
      return;
    }
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    child.kill('SIGINT');
  });
}

/** A running dumpcap. */
export interface Capture {
  /** Stops it (SIGINT after a short grace so the last packets are flushed) and resolves when the file is complete. */
  stop(): Promise<void>;
  /** dumpcap's stderr so far. */
  readonly log: () => string;
}

/**
 * Starts `dumpcap -i lo -f "udp port A or udp port B" -P -w file` (libpcap format) and resolves once dumpcap has
 * said "Capturing on", plus a short settle delay.
 */
export async function startCapture(ports: readonly number[], file: string): Promise<Capture> {
  const filter = ports.map((p) => `udp port ${p}`).join(' or ');
  const child = spawn('dumpcap', ['-i', 'lo', '-f', filter, '-P', '-w', file], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.setEncoding('utf8');
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`dumpcap did not start capturing within 20 s: ${log}`)), 20_000);
    child.stderr.on('data', (c: string) => {
      log += c;
      if (log.includes('Capturing on')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`dumpcap exited with ${code}: ${log}`));
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`could not start dumpcap: ${err.message}`));
    });
  });
  child.removeAllListeners('exit');
  child.removeAllListeners('error');
  child.on('error', () => {});
  // "Capturing on" is printed as the capture opens; give the BPF filter a moment before traffic starts.
  await sleep(400);
  return {
    log: () => log,
    stop: async () => {
      await sleep(500);
      await stopProcess(child);
    },
  };
}

/** Runs tshark; resolves with stdout, rejects with stderr on a non-zero exit. */
export function tshark(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('tshark', args, { maxBuffer: 64 << 20, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`tshark ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/** tshark's stderr without the banner it prints when run as root. */
export function tsharkComplaints(stderr: string): string[] {
  return stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^Running as user .* This could be dangerous\.$/.test(l));
}

/** One row of `tshark -q -z rtp,streams`. */
export interface TsharkRtpStream {
  readonly srcAddress: string;
  readonly srcPort: number;
  readonly dstAddress: string;
  readonly dstPort: number;
  readonly ssrc: number;
  readonly payload: string;
  readonly packets: number;
  readonly lost: number;
  readonly minDeltaMs: number;
  readonly meanDeltaMs: number;
  readonly maxDeltaMs: number;
  /** tshark marks a stream with "X" when it saw sequence errors, wrong timestamps or similar problems. */
  readonly problems: boolean;
}

const STREAM_ROW =
  /^\s*[\d.]+\s+[\d.]+\s+(\S+)\s+(\d+)\s+(\S+)\s+(\d+)\s+0x([0-9A-Fa-f]+)\s+(\S+)\s+(\d+)\s+(-?\d+)\s+\([^)]*\)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+[-\d.]+\s+[-\d.]+\s+[-\d.]+\s*(X?)\s*$/;

/** Parses the table printed by `tshark -q -z rtp,streams` (tshark 3.x/4.x layout). */
export function parseRtpStreams(text: string): TsharkRtpStream[] {
  const rows: TsharkRtpStream[] = [];
  for (const line of text.split('\n')) {
    const m = STREAM_ROW.exec(line);
    if (!m) continue;
    rows.push({
      srcAddress: m[1]!,
      srcPort: Number(m[2]),
      dstAddress: m[3]!,
      dstPort: Number(m[4]),
      ssrc: Number.parseInt(m[5]!, 16),
      payload: m[6]!,
      packets: Number(m[7]),
      lost: Number(m[8]),
      minDeltaMs: Number(m[9]),
      meanDeltaMs: Number(m[10]),
      maxDeltaMs: Number(m[11]),
      problems: m[12] === 'X',
    });
  }
  return rows;
}

/** Splits `tshark -T fields -E separator=|` output into rows of fields. */
export function fieldRows(stdout: string): string[][] {
  return stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('|'));
}

export { runCliInProcess } from '../helpers.js';

/** Runs `node bin/kook-rtp.js ...` as a child process. */
export function runCliSpawned(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`kook-rtp ${args.join(' ')} did not exit within ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** True when /proc/net/udp lists a socket bound on `port` (Linux); undefined when the table cannot be read. */
export function udpPortBound(port: number): boolean | undefined {
  let table: string;
  try {
    table = readFileSync('/proc/net/udp', 'utf8');
  } catch {
    return undefined;
  }
  // Rows read "sl local_address rem_address ...", the local address as HEXIP:HEXPORT.
  const suffix = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return table.split('\n').some((l) => l.trim().split(/\s+/)[1]?.endsWith(suffix) === true);
}

/**
 * A port P, with P + 1 also free, for a receiver that binds both (ffmpeg binds RTP on P and RTCP on P + 1 whatever
 * `a=rtcp:` says). Taken from 20000-29999, below Linux's ephemeral range so senders' own sockets never collide.
 */
export async function freePortPair(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const p = 20000 + 2 * Math.floor(Math.random() * 4999);
    const ok = await Promise.all([p, p + 1].map((port) => canBind(port)));
    if (ok.every(Boolean)) return p;
  }
  throw new Error('no free UDP port pair in 20000-29999');
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => {
      s.close();
      resolve(false);
    });
    s.bind(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/** A running ffmpeg receiver. */
export interface FfmpegReceiver {
  /** Ends ffmpeg with SIGINT (it finishes the output file) and resolves with its stderr. */
  stop(): Promise<{ code: number | null; log: string }>;
}

/**
 * Starts `ffmpeg -protocol_whitelist file,udp,rtp -i SDP OUTPUT...` and resolves once ffmpeg has bound the RTP and
 * RTCP ports (seen in /proc/net/udp; a fixed 2 s wait where that table is not readable).
 */
export async function startFfmpegReceiver(sdpFile: string, ports: readonly number[], output: readonly string[]): Promise<FfmpegReceiver> {
  const child = spawn('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'info', '-protocol_whitelist', 'file,udp,rtp', '-i', sdpFile, ...output], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let log = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (log += c));
  let exited = false;
  let spawnError: Error | undefined;
  child.once('exit', () => (exited = true));
  child.once('error', (err) => (spawnError = err));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (spawnError) throw new Error(`could not start ffmpeg: ${spawnError.message}`);
    if (exited) throw new Error(`ffmpeg exited before the stream started:\n${log}`);
    const bound = ports.map((p) => udpPortBound(p));
    if (bound.some((b) => b === undefined)) {
      await sleep(2000);
      break;
    }
    if (bound.every(Boolean)) break;
    if (Date.now() > deadline) {
      await stopProcess(child);
      throw new Error(`ffmpeg did not bind ${ports.join(', ')} within 20 s:\n${log}`);
    }
    await sleep(50);
  }
  // Bound is not yet reading: give ffmpeg a moment to reach its read loop.
  await sleep(300);
  // A port someone else held would have made ffmpeg give up here ("bind failed").
  if (exited) throw new Error(`ffmpeg exited before the stream started:\n${log}`);
  return {
    stop: async () => {
      const code = await stopProcess(child, 10_000);
      return { code, log };
    },
  };
}

/** Runs ffmpeg to completion; rejects with its log on failure. */
export function ffmpeg(args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', ...args], { timeout: 60_000, maxBuffer: 16 << 20 }, (err, _out, stderr) => {
      if (err) reject(new Error(`ffmpeg ${args.join(' ')} failed: ${err.message}\n${stderr}`));
      else resolve();
    });
  });
}

/** Reads raw s16le interleaved stereo PCM and mixes it down to mono floats. */
export function readS16StereoAsMono(file: string): Float64Array {
  const buf = readFileSync(file);
  const frames = Math.floor(buf.length / 4);
  const out = new Float64Array(frames);
  for (let i = 0; i < frames; i++) out[i] = (buf.readInt16LE(4 * i) + buf.readInt16LE(4 * i + 2)) / 65536;
  return out;
}

/** RMS level of a signal (0 for an empty one). */
export function rms(x: Float64Array): number {
  let s = 0;
  for (const v of x) s += v * v;
  return x.length === 0 ? 0 : Math.sqrt(s / x.length);
}

/** Normalized correlation of `a[i]` with `b[i + lag]` over their overlap (0 when shorter than `minOverlap` samples). */
export function correlationAt(a: Float64Array, b: Float64Array, lag: number, minOverlap: number): number {
  const start = Math.max(0, -lag);
  const end = Math.min(a.length, b.length - lag);
  if (end - start < minOverlap) return 0;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = start; i < end; i++) {
    const x = a[i]!;
    const y = b[i + lag]!;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa === 0 || bb === 0 ? 0 : ab / Math.sqrt(aa * bb);
}

function decimate(x: Float64Array, factor: number): Float64Array {
  const out = new Float64Array(Math.floor(x.length / factor));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let k = 0; k < factor; k++) s += x[i * factor + k]!;
    out[i] = s / factor;
  }
  return out;
}

/**
 * Finds the lag (in samples, `b` relative to `a`) within ±`maxLag` that maximises the normalized cross-correlation,
 * coarse on 4x-decimated signals, then refined at full rate. Returns the lag and the correlation there.
 */
export function bestAlignment(a: Float64Array, b: Float64Array, maxLag: number): { lag: number; correlation: number } {
  const F = 4;
  const da = decimate(a, F);
  const db = decimate(b, F);
  const minOverlap = Math.floor(Math.min(a.length, b.length) / 2);
  let coarse = 0;
  let best = -Infinity;
  const coarseMax = Math.ceil(maxLag / F);
  for (let lag = -coarseMax; lag <= coarseMax; lag++) {
    const c = correlationAt(da, db, lag, Math.floor(minOverlap / F));
    if (c > best) {
      best = c;
      coarse = lag;
    }
  }
  let lag = coarse * F;
  best = -Infinity;
  for (let l = coarse * F - 2 * F; l <= coarse * F + 2 * F; l++) {
    const c = correlationAt(a, b, l, minOverlap);
    if (c > best) {
      best = c;
      lag = l;
    }
  }
  return { lag, correlation: best };
}

/** Splits an Ogg/Opus file's packets, dropping the OpusHead and OpusTags headers. */
export function oggOpusAudioPackets(packets: readonly Uint8Array[]): Uint8Array[] {
  const ascii = (p: Uint8Array): string => Buffer.from(p.subarray(0, 8)).toString('latin1');
  return packets.filter((p) => ascii(p) !== 'OpusHead' && ascii(p) !== 'OpusTags');
}

/** Lowercase hex of bytes. */
export const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
