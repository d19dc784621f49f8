/**
 * Scale benchmark, side by side in ONE run on the same receiver (bench/receiver.ts, its own process):
 * - N = 1, 10, 20, 40, 60 transcoded streams (44.1 kHz 192 kbit/s MP3 in, Opus out) in ONE kook-rtp process (each
 *   stream a `createPlayer` on its own `createRtpSender`), against N `ffmpeg -re ... -f rtp` processes;
 * - one stream with the host's event loop blocked 100 ms every second, threads on and off;
 * - one stream against GStreamer (`opusenc ! rtpopuspay ! udpsink sync=true`) and ffmpeg;
 * - 1000 paced passthrough streams.
 * Each case: warm-up, then a measured window (CPU of every thread of the process, RSS, receiver gaps and jitter,
 * the senders' stalls, underruns and lateness). Writes bench/scale-results.json, bench/scale-results.md and
 * bench/scale.svg.
 *
 * Run: npx tsx bench/scale.ts [--quick] [--streams 1,10,20,40,60] [--window 20] [--warmup 5] [--passthrough 1000]
 *      [--mix 20] [--only-counts]
 *      npx tsx bench/scale.ts --render   (redraw bench/scale.svg from bench/scale-results.json)
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';

let rxRealtime = false;
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { generateInput } from './compare.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const quick = args.includes('--quick');
const arg = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const counts = arg('--streams', quick ? '1,10,40' : '1,10,20,40,60').split(',').map(Number);
const windowS = Number(arg('--window', quick ? '8' : '20'));
const warmupS = Number(arg('--warmup', quick ? '3' : '5'));
const passthroughN = Number(arg('--passthrough', quick ? '300' : '1000'));
/** Streams of the mixing case (an overlay and a filter each); 0 skips it. */
const mixN = Number(arg('--mix', '20'));
/** Only the transcode counts and the mixing case (no blocked-host, GStreamer or passthrough cases). */
const onlyCounts = args.includes('--only-counts');
const outDir = arg('--out', fileURLToPath(new URL('.', import.meta.url)));
const CLK_TCK = 100;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- the receiver (bench/receiver.ts)

interface RxReport {
  packets: number;
  streams: number;
  firstStream: { gapP50: number; gapP99: number; gapMax: number; jitterMs: number };
  allStreams: { gapDeviationP50: number; gapDeviationP99: number; jitterMsP50: number; jitterMsMax: number; gapMax: number; gapsOver25: number };
}

class LineChild {
  readonly child: ChildProcess;
  readonly #lines: Interface;
  readonly #waiting: ((line: string) => void)[] = [];
  constructor(child: ChildProcess) {
    this.child = child;
    this.#lines = createInterface({ input: child.stdout! });
    this.#lines.on('line', (l) => this.#waiting.shift()?.(l));
    child.stderr?.on('data', (d: Buffer) => process.stderr.write(`  [${path.basename(String(child.spawnargs[child.spawnargs.length - 1]))}] ${d}`));
  }
  next(timeoutMs = 60_000): Promise<string> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no answer from child')), timeoutMs);
      this.#waiting.push((l) => {
        clearTimeout(t);
        resolve(l);
      });
    });
  }
  async ask<T>(cmd: string): Promise<T> {
    const p = this.next();
    this.child.stdin!.write(`${cmd}\n`);
    return JSON.parse(await p) as T;
  }
}

async function startReceiver(): Promise<{ rx: LineChild; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bench/receiver.ts')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const rx = new LineChild(child);
  const { port } = JSON.parse(await rx.next()) as { port: number };
  // The instrument should not add its own scheduling delay (a busy 2-core machine delays a waking process by a few
  // ms): real-time scheduling for the receiver where allowed; the same receiver measures every pusher.
  if (child.pid !== undefined) rxRealtime = spawnSync('chrt', ['-f', '-a', '-p', '20', String(child.pid)], { stdio: 'ignore' }).status === 0;
  return { rx, port };
}

// ---------------------------------------------------------------- one case

interface CaseResult {
  readonly pusher: string;
  readonly streams: number;
  readonly note: string;
  readonly cpuSPerStreamMin: number;
  readonly cpuShareOfOneCore: number;
  readonly rssMb: number;
  readonly stalls?: number;
  readonly underruns?: number;
  readonly latenessP99Ms?: number;
  readonly latenessMaxMs?: number;
  readonly eventLoopDelayP99Ms?: number;
  readonly maxWindowBps?: number;
  readonly rx: RxReport;
}

async function runKook(
  rx: LineChild,
  port: number,
  file: string,
  streams: number,
  opts: { mode?: 'transcode' | 'passthrough' | 'mix'; blockMs?: number; threads?: boolean; note?: string } = {},
): Promise<CaseResult> {
  const child = spawn(
    process.execPath,
    [
      '--import', 'tsx', path.join(ROOT, 'bench/scaleChild.ts'),
      '--streams', String(streams), '--port', String(port), '--file', file,
      '--mode', opts.mode ?? 'transcode', '--block-ms', String(opts.blockMs ?? 0), '--threads', opts.threads === false ? '0' : '1',
    ],
    { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const k = new LineChild(child);
  await k.next(120_000); // ready
  await sleep(warmupS * 1000);
  await rx.ask<RxReport>('report'); // reset
  await k.ask('mark');
  await sleep(windowS * 1000);
  const [r, m] = await Promise.all([
    rx.ask<RxReport>('report'),
    k.ask<{ wallMs: number; cpuMs: number; rssMb: number; stalls: number; underruns: number; latenessP99Ms: number; latenessMaxMs: number; eventLoopDelayP99Ms: number; maxWindowBps: number }>('report'),
  ]);
  child.stdin!.write('quit\n');
  await Promise.race([new Promise((res) => child.once('exit', res)), sleep(15_000).then(() => child.kill('SIGKILL'))]);
  await sleep(300);
  return {
    pusher: 'kook-rtp',
    streams,
    note: opts.note ?? (opts.mode === 'passthrough' ? 'passthrough' : 'transcode'),
    cpuSPerStreamMin: m.cpuMs / 1000 / Math.max(1, streams) / (m.wallMs / 60_000),
    cpuShareOfOneCore: m.cpuMs / m.wallMs,
    rssMb: m.rssMb,
    stalls: m.stalls,
    underruns: m.underruns,
    latenessP99Ms: m.latenessP99Ms,
    latenessMaxMs: m.latenessMaxMs,
    eventLoopDelayP99Ms: m.eventLoopDelayP99Ms,
    maxWindowBps: m.maxWindowBps,
    rx: r,
  };
}

function procCpuTicks(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const rest = f.slice(f.lastIndexOf(')') + 2).split(' ');
    return Number(rest[11]) + Number(rest[12]); // utime + stime
  } catch {
    return 0;
  }
}

function procRssMb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return Number(m?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
}

async function runProcesses(rx: LineChild, pusher: string, commands: string[][], note: string): Promise<CaseResult> {
  const children = commands.map(([cmd, ...a]) => spawn(cmd as string, a, { stdio: ['ignore', 'ignore', 'pipe'] }));
  for (const c of children) c.stderr?.on('data', (d: Buffer) => process.stderr.write(`  [${pusher}] ${d}`));
  await sleep(warmupS * 1000);
  await rx.ask<RxReport>('report');
  const pids = children.map((c) => c.pid ?? 0);
  const c0 = pids.reduce((a, p) => a + procCpuTicks(p), 0);
  const t0 = performance.now();
  await sleep(windowS * 1000);
  const c1 = pids.reduce((a, p) => a + procCpuTicks(p), 0);
  const wallMs = performance.now() - t0;
  const rss = pids.reduce((a, p) => a + procRssMb(p), 0);
  const r = await rx.ask<RxReport>('report');
  for (const c of children) c.kill('SIGTERM');
  await sleep(500);
  const cpuMs = ((c1 - c0) / CLK_TCK) * 1000;
  const n = commands.length;
  return { pusher, streams: n, note, cpuSPerStreamMin: cpuMs / 1000 / n / (wallMs / 60_000), cpuShareOfOneCore: cpuMs / wallMs, rssMb: rss, rx: r };
}

const ffmpegCmd = (file: string, port: number, ssrc: number): string[] => [
  'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin', '-re', '-stream_loop', '-1', '-i', file,
  '-map', '0:a:0', '-acodec', 'libopus', '-ab', '48k', '-ac', '2', '-ar', '48000',
  '-ssrc', String(ssrc), '-payload_type', '111', '-f', 'rtp', `rtp://127.0.0.1:${port}`,
];

const gstCmd = (file: string, port: number, ssrc: number): string[] => [
  'gst-launch-1.0', '-q', 'filesrc', `location=${file}`, '!', 'decodebin', '!', 'audioconvert', '!', 'audioresample', '!',
  'audio/x-raw,rate=48000,channels=2', '!', 'opusenc', 'bitrate=48000', 'frame-size=20', '!',
  'rtpopuspay', 'pt=111', `ssrc=${ssrc}`, '!', 'udpsink', 'host=127.0.0.1', `port=${port}`, 'sync=true',
];

// ---------------------------------------------------------------- report

const f1 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1));
const f2 = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(2));

function row(c: CaseResult): string {
  return `| ${c.pusher} | ${c.streams} | ${c.note} | ${f2(c.cpuSPerStreamMin)} | ${f2(c.cpuShareOfOneCore)} | ${f1(c.rssMb)} | ${c.stalls ?? '–'} | ${c.underruns ?? '–'} | ${f2(c.latenessP99Ms)} / ${f1(c.latenessMaxMs)} | ${f2(c.rx.allStreams.gapDeviationP99)} | ${f1(c.rx.allStreams.gapMax)} (${c.rx.allStreams.gapsOver25}) | ${f2(c.rx.allStreams.jitterMsP50)} / ${f2(c.rx.allStreams.jitterMsMax)} | ${c.rx.streams} | ${f2(c.eventLoopDelayP99Ms)} |`;
}

const HEADER =
  '| pusher | streams | case | CPU s per stream-min | CPU (share of one core) | RSS MB (all processes) | stalls | underruns | send lateness p99 / max ms | receiver gap deviation p99 ms | receiver max gap ms (gaps > 25 ms) | jitter p50 / max ms | streams seen | host event-loop delay p99 ms |\n' +
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|';

function svg(results: CaseResult[]): string {
  const k = results.filter((r) => r.pusher === 'kook-rtp' && r.note === 'transcode').sort((a, b) => a.streams - b.streams);
  const ff = results.filter((r) => r.pusher === 'ffmpeg' && r.note === 'transcode').sort((a, b) => a.streams - b.streams);
  const W = 720;
  const H = 300;
  const pad = 50;
  const maxN = Math.max(...k.map((r) => r.streams), ...ff.map((r) => r.streams), 1);
  const maxCpu = Math.max(...k.map((r) => r.cpuSPerStreamMin), ...ff.map((r) => r.cpuSPerStreamMin), 0.1) * 1.15;
  const x = (n: number): number => pad + ((W - 2 * pad) * n) / maxN;
  const y = (v: number): number => H - pad - ((H - 2 * pad) * v) / maxCpu;
  const line = (rs: CaseResult[], color: string): string =>
    `<polyline fill="none" stroke="${color}" stroke-width="2" points="${rs.map((r) => `${x(r.streams).toFixed(1)},${y(r.cpuSPerStreamMin).toFixed(1)}`).join(' ')}"/>` +
    rs.map((r) => `<circle cx="${x(r.streams).toFixed(1)}" cy="${y(r.cpuSPerStreamMin).toFixed(1)}" r="3" fill="${color}"/>`).join('') +
    rs
      .map((r) => {
        const label = r.stalls !== undefined ? `${r.stalls} stalls, ${r.rx.allStreams.gapsOver25} gaps > 25 ms` : `${r.rx.allStreams.gapsOver25} gaps > 25 ms`;
        const dy = r.stalls !== undefined ? -8 : 16;
        return `<text x="${x(r.streams).toFixed(1)}" y="${(y(r.cpuSPerStreamMin) + dy).toFixed(1)}" font-size="9" text-anchor="middle" fill="${color}">${label}</text>`;
      })
      .join('');
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((t) => t * maxCpu);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="${W / 2}" y="20" text-anchor="middle" font-size="14">CPU seconds per stream-minute against transcoded streams (${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores)</text>
<line x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}" stroke="black"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${H - pad}" stroke="black"/>
${ticks.map((t) => `<text x="${pad - 6}" y="${y(t) + 4}" font-size="10" text-anchor="end">${t.toFixed(2)}</text>`).join('')}
${k.map((r) => `<text x="${x(r.streams)}" y="${H - pad + 14}" font-size="10" text-anchor="middle">${r.streams}</text>`).join('')}
<text x="${W / 2}" y="${H - 12}" text-anchor="middle" font-size="11">streams in one run</text>
${line(ff, '#d62728')}${line(k, '#1f77b4')}
<text x="${W - pad}" y="${pad}" text-anchor="end" font-size="12" fill="#1f77b4">kook-rtp (one process): stalls, receiver gaps &gt; 25 ms</text>
<text x="${W - pad}" y="${pad + 16}" text-anchor="end" font-size="12" fill="#d62728">ffmpeg (one process per stream): receiver gaps &gt; 25 ms</text>
</svg>
`;
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  if (args.includes('--render')) {
    // Redraw the chart from the last results (no run).
    const last = JSON.parse(readFileSync(path.join(outDir, 'scale-results.json'), 'utf8')) as { results: CaseResult[] };
    await writeFile(path.join(outDir, 'scale.svg'), svg(last.results));
    return;
  }
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'kook-scale-'));
  const seconds = warmupS + windowS + 20;
  const mp3 = generateInput(tmp, seconds);
  const ogg = path.join(tmp, 'passthrough.ogg');
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', '-i', mp3, '-c:a', 'libopus', '-b:a', '32k', '-frame_duration', '20', ogg]);
  const { rx, port } = await startReceiver();
  const results: CaseResult[] = [];
  const log = (c: CaseResult): void => {
    results.push(c);
    console.log(row(c));
  };
  console.log(`scale: ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, window ${windowS} s after ${warmupS} s warm-up\n${HEADER}`);
  try {
    log(await runKook(rx, port, mp3, 0, { note: 'no streams (event-loop baseline)' }));
    for (const n of counts) {
      log(await runKook(rx, port, mp3, n));
      log(await runProcesses(rx, 'ffmpeg', Array.from({ length: n }, (_, i) => ffmpegCmd(mp3, port, 20_000 + i)), 'transcode'));
    }
    if (mixN > 0) log(await runKook(rx, port, mp3, mixN, { mode: 'mix', note: 'an overlay (2 s every 5 s) and an equalizer on each stream' }));
    if (!onlyCounts) {
      log(await runKook(rx, port, mp3, 1, { blockMs: 100, note: 'host loop blocked 100 ms every 1 s' }));
      log(await runKook(rx, port, mp3, 1, { blockMs: 100, threads: false, note: 'host loop blocked 100 ms every 1 s, threads off' }));
      log(await runKook(rx, port, mp3, 1, { note: 'one stream vs GStreamer' }));
      log(await runProcesses(rx, 'GStreamer', [gstCmd(mp3, port, 30_000)], 'one stream vs GStreamer'));
      log(await runKook(rx, port, ogg, passthroughN, { mode: 'passthrough' }));
    }
  } finally {
    rx.child.stdin!.write('quit\n');
    await rm(tmp, { recursive: true, force: true });
  }
  const machine = `${os.cpus()[0]?.model ?? 'cpu'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GB, Node ${process.version}`;
  const md = `Scale benchmark (\`npx tsx bench/scale.ts${quick ? ' --quick' : ''}\`), ${new Date().toISOString().slice(0, 10)}, ${machine}; window ${windowS} s after ${warmupS} s warm-up; all cases in one run, one receiver process${rxRealtime ? ' (real-time scheduled)' : ''}.\n\n${HEADER}\n${results.map(row).join('\n')}\n`;
  await writeFile(path.join(outDir, 'scale-results.md'), md);
  await writeFile(path.join(outDir, 'scale-results.json'), `${JSON.stringify({ machine, windowS, warmupS, results }, null, 2)}\n`);
  await writeFile(path.join(outDir, 'scale.svg'), svg(results));
  console.log(`wrote ${path.join(outDir, 'scale-results.md')}, scale-results.json, scale.svg`);
}

await main();
