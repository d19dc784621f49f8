/**
 * The `kook-rtp` command line: `play`, `emulator`, `probe`, `sdp`.
 *
 * Exit status: 0 when every track played; 1 when a track failed or the far side closed the stream; 2 for a usage
 * error; 130 after SIGINT. Errors are one line on stderr (`kook-rtp: CODE: message`), with the stack only under
 * `--verbose`. The bot token is never printed.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { access, constants as fsConstants, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KookRtpError, isKookRtpError } from '../errors.js';
import { createPlayer, type LoopMode, type Player, type TrackEnd, type QueueItem } from '../engine/player.js';
import { createRtpSender, type RtpSender } from '../engine/sender.js';
import type { SenderStats } from '../pacer/stats.js';
import type { KookEmulator } from '../emulator/kook/emulator.js';
import type { KookStreamReport } from '../emulator/kook/stream.js';
import type { VoiceSession } from '../kook/session.js';
import type { Dashboard } from '../dashboard/dashboard.js';
import { probe } from '../media/probe.js';
import { opusBackendInfo } from '../media/opus/encoder.js';
import type { TrackInfo } from '../media/probe.js';
import type { PacketRecorder } from '../record/recorders.js';
import type { PacketKind } from '../transport/transport.js';
import { buildOpusSdp } from '../wire/sdp.js';
import { MAX_VOLUME } from '../util/volume.js';
import { CliOutput, outputMode } from './output.js';
import { parseRtpUrl } from './target.js';

// The emulator, the KOOK session and the recorders are loaded only by the runs that use them: a plain `--to` push
// starts faster without their module graphs.
const loadEmulator = (): Promise<typeof import('../emulator/kook/emulator.js')> => import('../emulator/kook/emulator.js');
const loadSession = (): Promise<typeof import('../kook/session.js')> => import('../kook/session.js');
const loadRecorders = (): Promise<typeof import('../record/recorders.js')> => import('../record/recorders.js');
const loadDashboard = (): Promise<typeof import('../dashboard/dashboard.js')> => import('../dashboard/dashboard.js');

const USAGE = `kook-rtp — stream audio files as RTP/Opus to KOOK voice channels or any RTP endpoint

Usage:
  kook-rtp --version                      print the version
  kook-rtp play <input...> [options]     play files/URLs as one RTP stream
  kook-rtp emulator [--port N] [--bitrate N] [--token T] [--dashboard [PORT]]
  kook-rtp probe <input> [--bitrate N]    print what an input holds and how it would play in a room of N bit/s (JSON)
  kook-rtp sdp --to rtp://host:port[?rtcpport=N] [--ssrc N] [--pt N] [--rtcp-mux] [--bitrate N]

Where play sends:
  (no target)               the built-in KOOK emulator; prints its receiver report at the end
  --channel ID              a KOOK voice channel (with --token or KOOK_TOKEN; --api-base URL)
  --to rtp://host:port[?rtcpport=N]   any plain-RTP endpoint

Play options:
  --ssrc N  --pt N          SSRC and payload type (KOOK defaults 1111 / 111; KOOK's answer wins)
  --bitrate N               room bitrate in bits/s (--to and the emulator; default 48000)
  --rtcp-mux / --no-rtcp-mux  RTCP on the RTP port (RFC 5761)
  --volume X                linear gain (1 = unchanged; anything else transcodes)
  --loop [off|track|queue]  repeat (bare --loop = queue)
  --seek S                  start the first input S seconds in
  --passthrough MODE        auto (default) | never | always (Opus files sent unchanged even over budget)
  --no-guard                disable the bitrate guard (to see the server's 120% rule bite)
  --cname C                 RTCP CNAME with --to (default kook-rtp-<hash of target and SSRC>, as sdp prints it)
  --stats-json FILE         write the stats (schema in README) when done
  --pcap FILE               write every packet sent as a libpcap file
  --record FILE             write what was sent as Ogg/Opus
  --quiet | --json | --verbose

Dashboard (play and emulator):
  --dashboard [PORT]        live page and Prometheus /metrics at http://127.0.0.1:PORT/ (a free port when omitted);
                            the line "dashboard: URL" is printed on stderr before anything plays
  --dashboard-host H        bind H instead of 127.0.0.1; needs an access token of 16+ characters:
  --dashboard-token T       (or KOOK_RTP_DASHBOARD_TOKEN) typed into the page's login form, or sent by a scraper
                            as "Authorization: Bearer T"; never printed
`;

const PLAY_OPTIONS = {
  to: { type: 'string' },
  channel: { type: 'string' },
  token: { type: 'string' },
  'api-base': { type: 'string' },
  password: { type: 'string' },
  ssrc: { type: 'string' },
  pt: { type: 'string' },
  bitrate: { type: 'string' },
  'rtcp-mux': { type: 'boolean' },
  'no-rtcp-mux': { type: 'boolean' },
  volume: { type: 'string' },
  loop: { type: 'string' },
  seek: { type: 'string' },
  passthrough: { type: 'string' },
  'no-guard': { type: 'boolean' },
  cname: { type: 'string' },
  'stats-json': { type: 'string' },
  pcap: { type: 'string' },
  record: { type: 'string' },
  quiet: { type: 'boolean', short: 'q' },
  json: { type: 'boolean' },
  verbose: { type: 'boolean', short: 'v' },
  port: { type: 'string' },
  dashboard: { type: 'string' },
  'dashboard-host': { type: 'string' },
  'dashboard-token': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options'];

type Flags = { [K in keyof typeof PLAY_OPTIONS]?: (typeof PLAY_OPTIONS)[K]['type'] extends 'string' ? string : boolean };

/** Runs the CLI with `argv` (without node and the script); resolves with the exit status. */
export async function runCli(argv: readonly string[], io: { stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream; isTty?: boolean } = {}): Promise<number> {
  const stdout = io.stdout ?? process.stdout;
  const stderr = io.stderr ?? process.stderr;
  let verbose = argv.includes('--verbose') || argv.includes('-v');
  try {
    const [command, ...rest] = argv;
    if (command === '--version' || command === '-V' || command === 'version') {
      stdout.write(`kook-rtp ${packageVersion()}\n`);
      return 0;
    }
    const normalized = normalizeArgs(rest);
    let parsed: { values: Flags; positionals: string[] };
    try {
      parsed = parseArgs({ args: normalized, options: PLAY_OPTIONS, allowPositionals: true, strict: true }) as { values: Flags; positionals: string[] };
    } catch (err) {
      throw new KookRtpError('USAGE', `${(err as Error).message} (see kook-rtp --help)`);
    }
    const { values: flags, positionals } = parsed;
    verbose = flags.verbose ?? false;
    if (command === undefined || command === '--help' || command === '-h' || command === 'help' || flags.help) {
      stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    }
    switch (command) {
      case 'play': {
        const hooks: PlayHooks = {};
        try {
          return await playCommand(positionals, flags, stdout, stderr, io.isTty ?? Boolean((stdout as NodeJS.WriteStream).isTTY), hooks);
        } finally {
          // Closed in order at the end of a run; here too when the run failed half-way.
          await hooks.dashboard?.close();
        }
      }
      case 'probe': {
        if (positionals.length !== 1) throw new KookRtpError('USAGE', 'probe takes exactly one input');
        // The room decides passthrough: an Opus file's peak 1 s window of RTP bytes against the guard's limit.
        const info = await probe(positionals[0]!, {
          roomBitrate: intFlag(flags.bitrate, 'bitrate', 6000, 10_000_000) ?? 48000,
          passthrough: passthroughOption(flags.passthrough),
          volume: numFlag(flags.volume, 'volume', 0, MAX_VOLUME) ?? 1,
        });
        stdout.write(`${JSON.stringify(info, null, 2)}\n`);
        return 0;
      }
      case 'sdp': {
        if (!flags.to) throw new KookRtpError('USAGE', 'sdp needs --to rtp://host:port[?rtcpport=N]');
        const t = parseRtpUrl(flags.to, muxFlag(flags));
        const sdpSsrc = intFlag(flags.ssrc, 'ssrc', 0, 0xffffffff) ?? 1111;
        stdout.write(
          buildOpusSdp({
            cname: flags.cname ?? defaultCname(t, sdpSsrc),
            address: t.host,
            port: t.port,
            rtcpPort: t.rtcpPort,
            rtcpMux: t.rtcpMux,
            payloadType: intFlag(flags.pt, 'pt', 0, 127) ?? 111,
            ssrc: sdpSsrc,
            ...(flags.bitrate === undefined ? {} : { bitrate: intFlag(flags.bitrate, 'bitrate', 1000, 10_000_000)! }),
          }),
        );
        return 0;
      }
      case 'emulator':
        return await emulatorCommand(flags, stdout, stderr);
      default:
        throw new KookRtpError('USAGE', `unknown command "${command}" (play, emulator, probe, sdp)`);
    }
  } catch (err) {
    stderr.write(`kook-rtp: ${describeError(err)}\n`);
    if (verbose && err instanceof Error && err.stack) stderr.write(`${err.stack}\n`);
    return isKookRtpError(err, 'USAGE') ? 2 : 1;
  }
}

/**
 * The CNAME of a `--to` push: `kook-rtp-` and 12 hex digits of a hash of the target and the SSRC. `play --to` and
 * `sdp --to` with the same options compute the same one (RFC 3550 §6.5.1 asks only that it be unique in the session:
 * two pushes with one SSRC to one receiver would collide on the SSRC first).
 */
export function defaultCname(t: { host: string; port: number }, ssrc: number): string {
  return `kook-rtp-${createHash('sha256').update(`${t.host}|${t.port}|${ssrc >>> 0}`).digest('hex').slice(0, 12)}`;
}

/** Which Opus encoder runs: the native binding, or the WebAssembly fallback and why (see the README's Set-up). */
export function opusBackendLine(b: { backend: 'native' | 'opusscript'; nativeError?: string }): string {
  if (b.backend === 'native') return 'Opus encoder: native (@discordjs/opus)';
  return `Opus encoder: opusscript (WebAssembly; the native module did not load${b.nativeError === undefined ? '' : `: ${b.nativeError.split('\n')[0]}`})`;
}

/** The version in package.json (two folders up from both src/cli and dist/cli). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

const STRING_OPTIONS = new Set(Object.entries(PLAY_OPTIONS).filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`));

/**
 * Prepares argv for parseArgs. `--loop` and `--dashboard` may stand alone (they get their default value); a negative
 * number after a string option (`--ssrc -5`) is its value, so the option's own range check answers, not parseArgs.
 * `--loop WORD` where WORD is neither a mode nor something that looks like an input is a wrong mode, not an input.
 */
export function normalizeArgs(rest: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    const next = rest[i + 1];
    if (a === '--loop') {
      if (next !== undefined && ['off', 'track', 'queue'].includes(next)) {
        out.push(`--loop=${next}`);
        i++;
      } else if (next === undefined || next.startsWith('-') || looksLikeInput(next)) {
        out.push('--loop=queue');
      } else {
        throw new KookRtpError('USAGE', `--loop must be off, track or queue, found "${next}" (a bare --loop repeats the queue)`);
      }
    } else if (a === '--dashboard' && !/^\d+$/.test(next ?? '')) {
      out.push('--dashboard=0');
    } else if (STRING_OPTIONS.has(a) && next !== undefined && /^-[\d.]/.test(next)) {
      out.push(`${a}=${next}`);
      i++;
    } else {
      out.push(a);
    }
  }
  return out;
}

/** A path or URL: has a dot, a slash or a colon, or names an existing file. */
function looksLikeInput(v: string): boolean {
  return /[./\\:]/.test(v) || existsSync(v);
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

/**
 * Checks that a file can be written at `path` before anything plays: its folder exists and is writable, and the
 * path is not a folder. Nothing is created.
 * @throws {@link KookRtpError} `USAGE` naming the flag and the path
 */
export async function checkOutputPath(flag: string, path: string): Promise<void> {
  const abs = resolvePath(path);
  const dir = dirname(abs);
  const fail = (why: string): never => {
    throw new KookRtpError('USAGE', `${flag} ${path}: ${why}`);
  };
  let dirStat;
  try {
    dirStat = await stat(dir);
  } catch {
    return fail(`the folder ${dir} does not exist (create it first)`);
  }
  if (!dirStat.isDirectory()) fail(`${dir} is not a folder`);
  try {
    await access(dir, fsConstants.W_OK);
  } catch {
    fail(`the folder ${dir} is not writable`);
  }
  try {
    const st = await stat(abs);
    if (st.isDirectory()) fail('is a folder, not a file');
    await access(abs, fsConstants.W_OK).catch(() => fail('exists and is not writable'));
  } catch (err) {
    if (isKookRtpError(err)) throw err;
    // Does not exist yet: it will be created.
  }
}

/**
 * The library's advice names its option (`apiBase`, `timeoutMs`); on the command line the flag is what to change.
 * Same code, same cause.
 */
function inCliWords(err: unknown): unknown {
  if (!isKookRtpError(err) || !/\bapiBase\b/.test(err.message)) return err;
  const copy = new KookRtpError(err.code, err.message.replace(/\bapiBase\b/g, '--api-base'), { cause: err });
  return copy;
}

/**
 * Checks that every local input exists and is a file before anything starts (URLs are left to the player).
 * @throws {@link KookRtpError} `USAGE` naming the input
 */
export function checkInputs(inputs: readonly string[]): void {
  for (const input of inputs) {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(input)) continue;
    let st;
    try {
      st = statSync(input);
    } catch {
      throw new KookRtpError('USAGE', `input ${input} does not exist`);
    }
    if (!st.isFile()) throw new KookRtpError('USAGE', `input ${input} is not a file`);
  }
}

function intFlag(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new KookRtpError('USAGE', `--${name} must be an integer ${min}-${max}, found "${v}"`);
  return n;
}

function numFlag(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new KookRtpError('USAGE', `--${name} must be a number ${min}-${max}, found "${v}"`);
  return n;
}

function muxFlag(flags: Flags): boolean | undefined {
  if (flags['rtcp-mux'] && flags['no-rtcp-mux']) throw new KookRtpError('USAGE', '--rtcp-mux and --no-rtcp-mux together');
  if (flags['rtcp-mux']) return true;
  if (flags['no-rtcp-mux']) return false;
  return undefined;
}

function passthroughOption(v: string | undefined): 'auto' | 'never' | 'always' {
  if (v === undefined) return 'auto';
  if (v === 'auto' || v === 'never' || v === 'always') return v;
  throw new KookRtpError('USAGE', `--passthrough must be auto, never or always, found "${v}"`);
}

function loopOption(v: string | undefined): LoopMode {
  if (v === undefined) return 'off';
  if (v === 'off' || v === 'track' || v === 'queue') return v;
  throw new KookRtpError('USAGE', `--loop must be off, track or queue, found "${v}"`);
}

interface TrackRecord {
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

/** What a run started that must be closed even when it fails half-way. */
interface PlayHooks {
  dashboard?: Dashboard;
}

/**
 * Starts the dashboard when `--dashboard` was given, and prints its one line on stderr (stdout stays the report or
 * the JSON lines). The token is checked by createDashboard and never printed.
 */
async function startDashboard(flags: Flags, stderr: NodeJS.WritableStream): Promise<Dashboard | undefined> {
  if (flags.dashboard === undefined) {
    if (flags['dashboard-host'] !== undefined || flags['dashboard-token'] !== undefined) {
      throw new KookRtpError('USAGE', '--dashboard-host and --dashboard-token go with --dashboard [PORT]');
    }
    return undefined;
  }
  const port = intFlag(flags.dashboard, 'dashboard', 0, 65535)!;
  const token = flags['dashboard-token'] ?? process.env['KOOK_RTP_DASHBOARD_TOKEN'];
  const { createDashboard } = await loadDashboard();
  let dashboard: Dashboard;
  try {
    dashboard = await createDashboard({
      port,
      ...(flags['dashboard-host'] === undefined ? {} : { host: flags['dashboard-host'] }),
      ...(token === undefined || token === '' ? {} : { token }),
    });
  } catch (err) {
    if (isKookRtpError(err, 'TOKEN_REQUIRED')) throw new KookRtpError('USAGE', err.message);
    throw err;
  }
  stderr.write(`dashboard: ${dashboard.url}\n`);
  return dashboard;
}

async function playCommand(inputs: string[], flags: Flags, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, isTty: boolean, hooks: PlayHooks): Promise<number> {
  if (inputs.length === 0) throw new KookRtpError('USAGE', 'play needs at least one input file or URL');
  if (flags.to && flags.channel) throw new KookRtpError('USAGE', 'give either --to or --channel, not both');
  const out = new CliOutput(outputMode(flags, isTty), stdout);
  const ssrc = intFlag(flags.ssrc, 'ssrc', 0, 0xffffffff);
  const pt = intFlag(flags.pt, 'pt', 0, 127);
  const bitrate = intFlag(flags.bitrate, 'bitrate', 6000, 10_000_000);
  const volume = numFlag(flags.volume, 'volume', 0, MAX_VOLUME) ?? 1;
  const seek = numFlag(flags.seek, 'seek', 0, 1e7);
  const loop = loopOption(flags.loop);
  const passthrough = passthroughOption(flags.passthrough);
  const mux = muxFlag(flags);
  const guard = flags['no-guard'] ? { enabled: false } : {};
  checkInputs(inputs);
  for (const flag of ['stats-json', 'pcap', 'record'] as const) {
    const path = flags[flag];
    if (path !== undefined) await checkOutputPath(`--${flag}`, path);
  }
  const dashboard = await startDashboard(flags, stderr);
  if (dashboard !== undefined) hooks.dashboard = dashboard;
  const backend = opusBackendInfo();
  out.info(opusBackendLine(backend));
  out.event('encoder', { ...backend });

  const recorders: PacketRecorder[] = [];
  if (flags.pcap || flags.record) {
    const { createOggRecorder, createPcapRecorder } = await loadRecorders();
    if (flags.pcap) recorders.push(createPcapRecorder(flags.pcap));
    if (flags.record) recorders.push(createOggRecorder(flags.record));
  }
  let currentSender: () => RtpSender | undefined = () => undefined;
  const onPacket =
    recorders.length === 0
      ? undefined
      : (bytes: Uint8Array, kind: PacketKind, timeMs: number): void => {
          const info = currentSender()?.transport?.info;
          if (info === undefined) return;
          const wall = performance.timeOrigin + timeMs;
          for (const r of recorders) r.write(bytes, kind, wall, info);
        };

  let emulator: KookEmulator | undefined;
  let session: VoiceSession | undefined;
  let player: Player;
  let target: StatsDocument['target'];
  let streamClosed: string | undefined;
  let interrupted = false;

  if (flags.to) {
    const t = parseRtpUrl(flags.to, mux);
    const room = bitrate ?? 48000;
    const sender = createRtpSender({
      target: { host: t.host, port: t.port, rtcpPort: t.rtcpPort, rtcpMux: t.rtcpMux },
      // The CNAME `kook-rtp sdp` prints for the same target and SSRC, so a receiver's SDP matches the RTCP.
      rtcp: { cname: flags.cname ?? defaultCname(t, ssrc ?? 1111) },
      ...(ssrc === undefined ? {} : { ssrc }),
      ...(pt === undefined ? {} : { payloadType: pt }),
      roomBitrate: room,
      guard,
      ...(onPacket === undefined ? {} : { onPacket }),
    });
    currentSender = () => sender;
    await sender.start();
    player = createPlayer({ sender, roomBitrate: room, volume, loop });
    dashboard?.add(player, { name: 'play', roomBitrate: room });
    target = { kind: 'rtp', host: t.host, port: t.port, rtcpPort: t.rtcpPort, rtcpMux: t.rtcpMux, ssrc: sender.stats().ssrc, payloadType: pt ?? 111, bitrate: room };
  } else {
    let token = flags.token ?? process.env['KOOK_TOKEN'];
    let apiBase = flags['api-base'];
    let channelId = flags.channel;
    if (channelId === undefined) {
      const { startKookEmulator } = await loadEmulator();
      emulator = await startKookEmulator({ bitrate: bitrate ?? 48000 });
      token = emulator.token;
      apiBase = emulator.apiBase;
      channelId = '1001';
      dashboard?.add(emulator, { name: 'emulator' });
      out.info(`KOOK emulator at ${emulator.apiBase} (pass --channel ID --token T to stream to KOOK)`);
    } else if (!token) {
      throw new KookRtpError('USAGE', '--channel needs a bot token: --token T or the KOOK_TOKEN environment variable');
    }
    const { createVoiceSession } = await loadSession();
    const s = createVoiceSession({
      token,
      ...(apiBase === undefined ? {} : { apiBase }),
      channelId,
      ...(ssrc === undefined ? {} : { audioSsrc: ssrc }),
      ...(pt === undefined ? {} : { audioPt: pt }),
      ...(mux === undefined ? {} : { rtcpMux: mux }),
      ...(flags.password === undefined ? {} : { password: flags.password }),
      sender: { guard, ...(onPacket === undefined ? {} : { onPacket }) },
      player: { volume, loop },
    });
    session = s;
    dashboard?.add(s, { name: 'play' });
    s.on('streamClosed', (e) => {
      streamClosed = `${e.reason}: ${e.detail}`;
      out.info(`the far side closed the stream (${streamClosed})`);
      out.event('streamClosed', { reason: e.reason, detail: e.detail });
    });
    currentSender = () => s.sender;
    let join;
    try {
      join = await s.join();
    } catch (err) {
      // runCli may be embedded: leave nothing listening behind.
      await s.leave();
      await emulator?.close();
      throw inCliWords(err);
    }
    player = s.player;
    target = { kind: emulator ? 'emulator' : 'kook', host: join.ip, port: join.port, rtcpPort: join.rtcpPort, rtcpMux: join.rtcpMux, ssrc: join.audioSsrc, payloadType: join.audioPt, bitrate: join.bitrate };
  }
  out.info(`→ rtp://${target.host}:${target.port}${target.rtcpMux ? ' (RTCP muxed)' : `?rtcpport=${target.rtcpPort}`} ssrc=${target.ssrc} pt=${target.payloadType} bitrate=${target.bitrate}`);
  out.event('target', { ...target });

  const onSignal = (): void => {
    interrupted = true;
    player.stop();
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const records = new Map<number, TrackRecord>();
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

  const items: QueueItem[] = inputs.map((input, i) => {
    const item = player.enqueue(input, {
      ...(i === 0 && seek !== undefined ? { seek } : {}),
      track: { passthrough },
    });
    records.set(item.id, { title: item.title });
    return item;
  });
  await Promise.all(items.map((i) => i.done));
  if (loop !== 'off') await player.drained();
  out.done();

  const senderStats = currentSender()?.stats();
  let report: KookStreamReport | undefined;
  if (session) await session.leave();
  else await player.destroy();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  let recordFailed = false;
  for (const r of recorders) {
    try {
      await r.close();
    } catch (err) {
      recordFailed = true;
      stderr.write(`kook-rtp: ${describeError(err)}\n`);
    }
  }
  if (emulator) {
    const all = emulator.reports();
    report = all[all.length - 1];
    await emulator.close();
  }
  // A last sample (the final counters, the emulator's closing report) reaches the open pages before the server closes.
  await dashboard?.close();

  const tracks = [...records.values()];
  const doc: StatsDocument = {
    schema: 'kook-rtp/stats@1',
    target,
    tracks,
    sender: senderStats,
    ...(streamClosed === undefined ? {} : { streamClosed }),
    ...(report === undefined ? {} : { emulator: report }),
  };
  let writeFailed = false;
  if (flags['stats-json']) {
    try {
      await writeFile(flags['stats-json'], `${JSON.stringify(doc, null, 2)}\n`);
    } catch (err) {
      writeFailed = true;
      stderr.write(`kook-rtp: WRITE_FAILED: --stats-json ${flags['stats-json']}: ${(err as Error).message}\n`);
    }
  }
  if (report) {
    if (out.mode === 'json') out.event('report', { report });
    else if (out.mode !== 'quiet') stdout.write(`${formatReport(report)}\n`);
  } else if (senderStats) {
    out.info(`sent ${senderStats.packetsSent} packets, ${senderStats.bytes.rtp} RTP bytes, max 1 s bitrate ${senderStats.bitrate.maxBps} bps, lateness p99 ${senderStats.lateness.p99Ms.toFixed(2)} ms`);
    out.event('stats', { sender: senderStats });
  }

  if (interrupted) return 130;
  const failed = tracks.filter((t) => t.reason !== 'finished' && !(loop !== 'off' && t.reason === 'stopped'));
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

async function emulatorCommand(flags: Flags, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
  const { startKookEmulator } = await loadEmulator();
  const emulator = await startKookEmulator({
    ...(flags.port === undefined ? {} : { port: intFlag(flags.port, 'port', 0, 65535)! }),
    ...(flags.bitrate === undefined ? {} : { bitrate: intFlag(flags.bitrate, 'bitrate', 6000, 10_000_000)! }),
    ...(flags.token === undefined ? {} : { token: flags.token }),
  });
  let dashboard: Dashboard | undefined;
  try {
    dashboard = await startDashboard(flags, stderr);
  } catch (err) {
    await emulator.close();
    throw err;
  }
  // The emulator's own token is a local test credential, not a KOOK secret: printing it is how it is used.
  dashboard?.add(emulator, { name: 'emulator' });
  stdout.write(`${JSON.stringify({ apiBase: emulator.apiBase, token: emulator.token, channels: ['1001', '1002', '1003'], ...(dashboard === undefined ? {} : { dashboard: dashboard.url }) })}\n`);
  emulator.on('closed', (e) => stdout.write(`${JSON.stringify({ type: 'streamClosed', ...e })}\n`));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await emulator.close();
  await dashboard?.close();
  return 0;
}

/**
 * Runs the CLI as the process: `process.argv`, exit status, and a last-resort report of unhandled rejections.
 * Called by `bin/kook-rtp.js` and when this module is the entry script (`tsx src/cli/main.ts`, `npm start`).
 */
export function runCliProcess(): void {
  process.on('unhandledRejection', (err) => {
    process.stderr.write(`kook-rtp: ${describeError(err)} (unhandled rejection)\n`);
  });
  runCli(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
      // Give stdout a turn to flush, then leave even if a stray handle (a socket in TIME_WAIT, a timer) lingers.
      setTimeout(() => process.exit(code), 50).unref();
    },
    (err: unknown) => {
      process.stderr.write(`kook-rtp: ${describeError(err)}\n`);
      process.exit(1);
    },
  );
}

// The entry script, compared by real path: npm's bin links are symlinks, and their names end in neither .js nor .ts.
function isEntryScript(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryScript()) runCliProcess();
