/**
 * Side-by-side benchmark: kook-rtp against the reference ffmpeg pusher, same input, same run.
 *
 * Each pusher runs as a child process (wrapped in GNU `/usr/bin/time` for CPU and peak RSS) and sends to a
 * receiver in another process (bench/lib/receiver.ts) that timestamps every datagram. The results go to
 * bench/results.json, bench/results.md and bench/bitrate.svg.
 *
 * Run: npx tsx bench/compare.ts [--quick] [--file F] [--seconds N] [--runs N] [--candidate auto|kook-rtp|ffmpeg]
 *                                [--out DIR]
 * From bench/run.ts: `await runCompare({ quick: true })`.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ReceiverReport } from './lib/analyze.js';
import { GNU_TIME_FORMAT, parseGnuTime } from './lib/packets.js';
import { markdownTable, ROOM_LIMIT_BPS, stderrHeadline, summarize, type PusherRun, type SummaryRow } from './lib/report.js';
import { bitrateChartSvg } from './lib/svg.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RECEIVER = fileURLToPath(new URL('./lib/receiver.ts', import.meta.url));
const TIME = '/usr/bin/time';

/**
 * The kook-rtp command line: the ONE place to adjust when the CLI's flags change.
 * `url` is `rtp://127.0.0.1:P?rtcpport=Q`.
 */
export const KOOK_RTP_COMMAND = (file: string, url: string): string[] => [
  process.execPath, path.join(ROOT, 'bin/kook-rtp.js'), 'play', file,
  '--to', url, '--bitrate', '48000', '--ssrc', '1111', '--pt', '111', '--quiet',
];

/** The reference pusher (docs/services.md §1, without the volume filter and tee), ssrc/pt set as muxer options. */
export const FFMPEG_COMMAND = (file: string, url: string): string[] => [
  'ffmpeg', '-hide_banner', '-loglevel', 'error', '-re', '-i', file,
  '-map', '0:a:0', '-acodec', 'libopus', '-ab', '48k', '-ac', '2', '-ar', '48000',
  '-ssrc', '1111', '-payload_type', '111', '-f', 'rtp', url,
];

/** Options of {@link runCompare}; every field has a default. */
export interface CompareOptions {
  /** 15 s clip, one run each: the whole thing finishes in well under a minute. Default false (60 s clip). */
  readonly quick?: boolean;
  /** Input file; default: a music-like MP3 generated with ffmpeg into a temp dir. */
  readonly file?: string;
  /** Clip length in seconds (generated input, or the first N seconds of `file`). Default 15 quick, 60 full. */
  readonly seconds?: number;
  /** Runs per pusher (alternating order); the table shows medians. Default 1. */
  readonly runs?: number;
  /**
   * Which program plays the kook-rtp part: 'kook-rtp' (the CLI), 'ffmpeg' (a stand-in, to check the harness),
   * or 'auto' (the CLI when src/cli/main.ts or dist/cli/main.js exists, else the stand-in). Default 'auto'.
   */
  readonly candidate?: 'auto' | 'kook-rtp' | 'ffmpeg';
  /** Where results.json, results.md and bitrate.svg go. Default bench/. */
  readonly outDir?: string;
  /** Progress lines; default console.log. */
  readonly log?: (line: string) => void;
}

/** What {@link runCompare} returns (and writes to results.json). */
export interface CompareResult {
  readonly machine: MachineInfo;
  readonly input: { readonly file: string; readonly generated: boolean; readonly audioSeconds: number };
  readonly baselineLabel: string;
  readonly candidateLabel: string;
  /** How the candidate ran: built dist/, TypeScript through tsx, or the ffmpeg stand-in. */
  readonly candidateRuntime: string;
  readonly summary: readonly SummaryRow[];
  readonly runs: { readonly baseline: readonly PusherRun[]; readonly candidate: readonly PusherRun[] };
  readonly markdown: string;
  readonly files: { readonly json: string; readonly markdown: string; readonly svg: string };
}

interface MachineInfo {
  readonly cpu: string;
  readonly cores: number;
  readonly os: string;
  readonly node: string;
  readonly ffmpeg: string;
  readonly date: string;
  /** 1-minute load average before and after: the machine is shared, so this says how noisy the numbers are. */
  readonly loadavgBefore: number;
  readonly loadavgAfter: number;
  readonly cpuMethod: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function ffmpegVersion(): string {
  try {
    return execFileSync('ffmpeg', ['-version'], { encoding: 'utf8' }).split('\n')[0] ?? 'unknown';
  } catch {
    return 'not found';
  }
}

function probeSeconds(file: string): number {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  const seconds = Number(out.trim());
  if (!Number.isFinite(seconds) || seconds <= 0) throw new Error(`ffprobe could not read the duration of ${file} (got "${out.trim()}")`);
  return seconds;
}

/** A stereo, music-like MP3 (two tones, pink noise per channel, a slow tremolo) so Opus VBR has work to do. */
export function generateInput(dir: string, seconds: number): string {
  const file = path.join(dir, `music-${seconds}s.mp3`);
  const d = String(seconds);
  execFileSync('ffmpeg', [
    '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-i', `sine=f=220:d=${d}`,
    '-f', 'lavfi', '-i', `sine=f=331:d=${d}`,
    '-f', 'lavfi', '-i', `anoisesrc=d=${d}:a=0.12:c=pink:s=1`,
    '-f', 'lavfi', '-i', `anoisesrc=d=${d}:a=0.12:c=pink:s=2`,
    '-filter_complex', '[0][2]amix=inputs=2[l];[1][3]amix=inputs=2[r];[l][r]join=inputs=2:channel_layout=stereo,tremolo=f=1.5:d=0.7',
    '-ar', '44100', '-b:a', '192k', file,
  ]);
  return file;
}

function trimInput(dir: string, file: string, seconds: number): string {
  const out = path.join(dir, `trimmed-${seconds}s${path.extname(file) || '.mka'}`);
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', file, '-t', String(seconds), '-map', '0:a:0', '-c', 'copy', out]);
  return out;
}

/** A running bench/lib/receiver.ts child and its ephemeral ports. */
export interface Receiver {
  readonly child: ChildProcess;
  readonly rtpPort: number;
  readonly rtcpPort: number;
  stop(): Promise<ReceiverReport>;
}

/**
 * Spawns bench/lib/receiver.ts in its own Node process and waits for its ephemeral ports.
 *
 * @returns the receiver; `stop()` asks it for its report, which it sends before exiting.
 * @throws Error when the receiver does not come up within 15 s.
 */
export async function startReceiver(): Promise<Receiver> {
  const child = spawn(process.execPath, ['--import', 'tsx', RECEIVER], { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const ports = await new Promise<{ rtpPort: number; rtcpPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('receiver did not report its ports within 15 s')), 15_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`receiver exited early with code ${code}`)));
    child.on('message', (m: { type?: string; rtpPort?: number; rtcpPort?: number }) => {
      if (m.type === 'ready' && m.rtpPort !== undefined && m.rtcpPort !== undefined) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve({ rtpPort: m.rtpPort, rtcpPort: m.rtcpPort });
      }
    });
  });
  return {
    child,
    ...ports,
    stop: () =>
      new Promise<ReceiverReport>((resolve, reject) => {
        const timer = setTimeout(() => {
          child.kill('SIGKILL');
          reject(new Error('receiver did not report within 10 s of stop'));
        }, 10_000);
        child.on('message', (m: { type?: string; report?: ReceiverReport }) => {
          if (m.type === 'report' && m.report) {
            clearTimeout(timer);
            resolve(m.report);
          }
        });
        child.send({ type: 'stop' });
      }),
  };
}

/** Process groups of pushers still running: ended if the harness exits or is interrupted mid-run. */
const activeGroups = new Set<number>();

function endActivePushers(): void {
  for (const pgid of activeGroups) {
    try { process.kill(-pgid, 'SIGTERM'); } catch { /* already gone */ }
  }
  activeGroups.clear();
}
process.on('exit', endActivePushers);

/** Runs one pusher against a fresh receiver; never throws for a pusher failure, records it instead. */
async function runPusher(
  pusher: string,
  label: string,
  commandFor: (file: string, url: string) => string[],
  file: string,
  audioSeconds: number,
  tmp: string,
): Promise<PusherRun> {
  const receiver = await startReceiver();
  const url = `rtp://127.0.0.1:${receiver.rtpPort}?rtcpport=${receiver.rtcpPort}`;
  const command = commandFor(file, url);
  const timeFile = path.join(tmp, `time-${pusher}-${Date.now()}.txt`);
  let stderr = '';
  const t0 = process.hrtime.bigint();
  // detached: its own process group, so a timeout can end time(1) and the pusher together.
  const child = spawn(TIME, ['-o', timeFile, '-f', GNU_TIME_FORMAT, ...command], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  if (child.pid !== undefined) activeGroups.add(child.pid);
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-16_000);
  });
  const limitMs = (audioSeconds + 30) * 1000;
  let timedOut = false;
  const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    const timer = setTimeout(() => {
      timedOut = true;
      try { process.kill(-child.pid!, 'SIGTERM'); } catch { /* already gone */ }
      setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ } }, 2000).unref();
    }, limitMs);
    child.once('error', (error) => { clearTimeout(timer); resolve({ code: null, error }); });
    child.once('close', (code) => { clearTimeout(timer); resolve({ code }); });
  });
  if (child.pid !== undefined) activeGroups.delete(child.pid);
  // RTCP BYE leaves right before exit; give the loopback a moment.
  await sleep(500);
  const report = await receiver.stop();
  const usage = parseGnuTime(await readFile(timeFile, 'utf8').catch(() => ''));
  const stderrTail = stderr.split('\n').filter((l) => l.trim() !== '').slice(-8).join('\n');
  const first = (ns: string | undefined): number | undefined => (ns === undefined ? undefined : Number(BigInt(ns) - t0) / 1e6);
  let failure: string | undefined;
  if (exit.error) failure = `could not start: ${exit.error.message}`;
  else if (timedOut) failure = `did not finish within ${limitMs / 1000} s and was killed`;
  else if (exit.code !== 0) failure = `exited with code ${exit.code}${stderr ? `: ${stderrHeadline(stderr)}` : ''}`;
  else if (report.rtp.packets === 0) failure = 'exited cleanly but no RTP packet reached the receiver';
  return {
    pusher,
    label,
    command,
    status: failure === undefined ? 'ok' : 'failed',
    ...(failure !== undefined ? { failure } : {}),
    stderrTail,
    audioSeconds,
    ...(usage ? { usage } : {}),
    ...(report.firstRtpArrivalNs !== undefined ? { firstRtpMs: first(report.firstRtpArrivalNs)! } : {}),
    ...(report.firstRtcpArrivalNs !== undefined ? { firstRtcpMs: first(report.firstRtcpArrivalNs)! } : {}),
    receiver: report,
  };
}

function kookCliExists(): boolean {
  return existsSync(path.join(ROOT, 'src/cli/main.ts')) || existsSync(path.join(ROOT, 'dist/cli/main.js'));
}

/**
 * Runs the comparison and writes results.json, results.md and bitrate.svg.
 *
 * @throws Error when ffmpeg or /usr/bin/time is missing, or the input cannot be prepared. A failing pusher does
 * not throw: its run is marked `failed` with the reason, and the table shows "–" for its figures.
 */
export async function runCompare(options: CompareOptions = {}): Promise<CompareResult> {
  const log = options.log ?? ((line: string) => console.log(line));
  const quick = options.quick ?? false;
  const seconds = options.seconds ?? (quick ? 15 : 60);
  const runs = Math.max(1, Math.floor(options.runs ?? 1));
  const outDir = options.outDir ?? path.join(ROOT, 'bench');
  if (!existsSync(TIME)) throw new Error(`${TIME} (GNU time) is needed to measure CPU and peak RSS: apt-get install time`);
  const ffmpeg = ffmpegVersion();
  if (ffmpeg === 'not found') throw new Error('ffmpeg is needed (it is the baseline and generates the input): apt-get install ffmpeg');

  const choice = options.candidate ?? 'auto';
  const useCli = choice === 'kook-rtp' || (choice === 'auto' && kookCliExists());
  const candidateLabel = useCli ? 'kook-rtp' : 'kook-rtp (stand-in: ffmpeg)';
  const candidateRuntime = !useCli
    ? 'ffmpeg stand-in (the kook-rtp CLI does not exist yet)'
    : existsSync(path.join(ROOT, 'dist/cli/main.js'))
      ? 'built dist/cli/main.js'
      : 'src/ through tsx (compiles at start-up: run npm run build for fair CPU and start-up figures)';
  if (!useCli) log('compare: kook-rtp CLI (src/cli/main.ts) not found: ffmpeg stands in for it, to exercise the harness');

  const loadavgBefore = os.loadavg()[0] ?? 0;
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kook-rtp-bench-'));
  try {
    let file: string;
    const generated = options.file === undefined;
    if (options.file === undefined) file = generateInput(tmp, seconds);
    else if (options.seconds !== undefined) file = trimInput(tmp, path.resolve(options.file), seconds);
    else file = path.resolve(options.file);
    const audioSeconds = probeSeconds(file);
    log(`compare: input ${generated ? `generated ${path.basename(file)}` : file}, ${audioSeconds.toFixed(2)} s, ${runs} run(s) each`);

    const baseline: PusherRun[] = [];
    const candidate: PusherRun[] = [];
    for (let i = 0; i < runs; i++) {
      // Alternate who goes first, so a trend in the machine's load does not always favour one side.
      const order = i % 2 === 0 ? (['ffmpeg', 'kook-rtp'] as const) : (['kook-rtp', 'ffmpeg'] as const);
      for (const who of order) {
        const run = who === 'ffmpeg'
          ? await runPusher('ffmpeg', 'ffmpeg', FFMPEG_COMMAND, file, audioSeconds, tmp)
          : await runPusher('kook-rtp', candidateLabel, useCli ? KOOK_RTP_COMMAND : FFMPEG_COMMAND, file, audioSeconds, tmp);
        (who === 'ffmpeg' ? baseline : candidate).push(run);
        const r = run.receiver?.rtp;
        log(`compare: run ${i + 1}/${runs} ${run.label}: ${run.status === 'ok' ? 'ok' : `FAILED (${run.failure ?? '?'})`}` +
          (r ? `, ${r.packets} packets, worst 1 s RTP ${(r.worstWindowBps.rtp / 1000).toFixed(1)} kbit/s` : ''));
        if (run.status === 'failed' && run.stderrTail) log(run.stderrTail.replace(/^/gm, '    | '));
        await sleep(300);
      }
    }

    const machine: MachineInfo = {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      os: `${os.type()} ${os.release()} ${os.arch()}`,
      node: process.version,
      ffmpeg,
      date: new Date().toISOString(),
      loadavgBefore,
      loadavgAfter: os.loadavg()[0] ?? 0,
      cpuMethod: `GNU ${TIME} -f '%U %S %M' around each pusher (user+sys and peak RSS of the pusher and every child it waits for; 10 ms resolution)`,
    };
    const summary = summarize(baseline, candidate);
    const table = markdownTable(summary, 'ffmpeg', candidateLabel);
    const failures = [...baseline, ...candidate].filter((r) => r.status === 'failed');
    const markdown = [
      `# kook-rtp vs ffmpeg (${quick ? 'quick' : 'full'} run)`,
      '',
      `${machine.date} · ${machine.cpu} × ${machine.cores} · ${machine.os} · Node ${machine.node} · ${machine.ffmpeg}`,
      `Input: ${generated ? 'generated music-like MP3' : path.basename(file)}, ${audioSeconds.toFixed(2)} s; ${runs} run(s) per pusher, medians shown; ` +
        `room limit ${ROOM_LIMIT_BPS / 1000} kbit/s. Load average ${loadavgBefore.toFixed(2)} → ${machine.loadavgAfter.toFixed(2)}: ` +
        'the machine is shared, timing and CPU figures are noisy.',
      `kook-rtp ran as: ${candidateRuntime}.`,
      '',
      table,
      ...(failures.length > 0 ? ['**Failed runs:**', '', ...failures.map((f) => `- ${f.label}: ${f.failure ?? '?'}`), ''] : []),
      'CPU: user+sys from GNU time around the child. Start: spawn to first datagram at the receiver (same CLOCK_MONOTONIC). ' +
        'Bitrates: worst sliding 1 s window of arrival times (media time: of RTP timestamps). Jitter: RFC 3550 A.8 from RTP timestamp vs arrival time.',
      '',
    ].join('\n');

    const series = (runsOf: readonly PusherRun[]): readonly number[] => runsOf.find((r) => r.status === 'ok')?.receiver?.rtp.perSecondRtpBps ?? [];
    const svg = bitrateChartSvg({
      title: `RTP bitrate per second, ${audioSeconds.toFixed(0)} s input (limit ${ROOM_LIMIT_BPS / 1000} kbit/s)`,
      limitBps: ROOM_LIMIT_BPS,
      series: [
        { label: 'ffmpeg', color: '#1f77b4', values: series(baseline) },
        { label: candidateLabel, color: '#2ca02c', values: series(candidate) },
      ],
    });

    await mkdir(outDir, { recursive: true });
    const files = { json: path.join(outDir, 'results.json'), markdown: path.join(outDir, 'results.md'), svg: path.join(outDir, 'bitrate.svg') };
    const result: CompareResult = {
      machine,
      input: { file: generated ? path.basename(file) : file, generated, audioSeconds },
      baselineLabel: 'ffmpeg',
      candidateLabel,
      candidateRuntime,
      summary,
      runs: { baseline, candidate },
      markdown,
      files,
    };
    const { markdown: _md, ...json } = result;
    await writeFile(files.json, `${JSON.stringify(json, null, 2)}\n`);
    await writeFile(files.markdown, markdown);
    await writeFile(files.svg, svg);
    return result;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

function parseArgs(argv: readonly string[]): CompareOptions {
  const options: { -readonly [K in keyof CompareOptions]: CompareOptions[K] } = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${arg} needs a value`);
      return v;
    };
    switch (arg) {
      case '--quick': options.quick = true; break;
      case '--file': options.file = value(); break;
      case '--seconds': options.seconds = Number(value()); break;
      case '--runs': options.runs = Number(value()); break;
      case '--out': options.outDir = path.resolve(value()); break;
      case '--candidate': {
        const v = value();
        if (v !== 'auto' && v !== 'kook-rtp' && v !== 'ffmpeg') throw new Error(`--candidate must be auto, kook-rtp or ffmpeg, got ${v}`);
        options.candidate = v;
        break;
      }
      default: throw new Error(`unknown argument ${arg} (use --quick, --file F, --seconds N, --runs N, --candidate auto|kook-rtp|ffmpeg, --out DIR)`);
    }
  }
  if (options.seconds !== undefined && !(options.seconds > 0)) throw new Error('--seconds must be a positive number');
  return options;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  // The pushers run in their own process groups, so Ctrl-C does not reach them: end them ourselves.
  process.once('SIGINT', () => {
    endActivePushers();
    process.exit(130);
  });
  try {
    const result = await runCompare(parseArgs(process.argv.slice(2)));
    console.log(`\n${result.markdown}`);
    console.log(`wrote ${path.relative(process.cwd(), result.files.json)}, ${path.relative(process.cwd(), result.files.markdown)}, ${path.relative(process.cwd(), result.files.svg)}`);
    const failed = [...result.runs.baseline, ...result.runs.candidate].some((r) => r.status === 'failed');
    process.exitCode = failed ? 1 : 0;
  } catch (error) {
    console.error(`compare: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 2;
  }
}
