/**
 * The command line's flags: the one table `parseArgs` reads for every command, the usage text, and the readers that
 * turn a flag's text into a checked value (a wrong value is a `USAGE` error, exit 2, before anything plays).
 *
 * Adding a flag to `play`: one line in {@link OPTIONS}, one in {@link USAGE}; then read it in `play/flags.ts`
 * (`readPlayFlags`) and hand it on there (`playerOptions` / `trackOptions`). Nothing else changes.
 */
import { existsSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { KookRtpError } from '../errors.js';
import type { LoopMode } from '../engine/player.js';

/** What `kook-rtp --help` prints. */
export const USAGE = `kook-rtp — stream audio files as RTP/Opus to KOOK voice channels or any RTP endpoint

Usage:
  kook-rtp --version                      print the version
  kook-rtp --help                         print this
  kook-rtp play <input...> [options]     play files/URLs as one RTP stream
  kook-rtp emulator [--port N] [--bitrate N] [--token T] [--dashboard [PORT]]
  kook-rtp probe <input> [--bitrate N]    print what an input holds and how it would play in a room of N bit/s (JSON)
  kook-rtp sdp --to rtp://host:port[?rtcpport=N] [--ssrc N] [--pt N] [--rtcp-mux] [--bitrate N]

Where play sends:
  (no target)               the built-in KOOK emulator; prints its receiver report at the end
  --channel ID              a KOOK voice channel (with --token or KOOK_TOKEN; --api-base URL; --password P
                            for a protected room)
  --to rtp://host:port[?rtcpport=N]   any plain-RTP endpoint

Play options:
  --ssrc N  --pt N          SSRC and payload type (KOOK defaults 1111 / 111; KOOK's answer wins)
  --bitrate N               room bitrate in bits/s (--to and the emulator; default 48000)
  --rtcp-mux / --no-rtcp-mux  RTCP on the RTP port (RFC 5761)
  --volume X                linear gain (1 = unchanged; anything else transcodes)
  --loop [off|track|queue]  repeat (bare --loop = queue)
  --seek S                  start the first input S seconds in
  --normalize [off|track]   loudness per track to -16 LUFS (tags, else measured; bare --normalize = track)
  --normalize-target LUFS   the target for --normalize (default -16)
  --crossfade MS            overlap each track's end with the next one's start, equal power (default 0: gapless)
  --filters JSON|@FILE      Lavalink-style filters, e.g. '{"timescale":{"speed":1.25},"lowPass":{"smoothing":20}}'
  --overlay FILE@S          mix FILE over the music S seconds after it starts (repeatable; the music ducks)
  --duck DB                 how far the music ducks under an --overlay (default -12)
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

/** Every flag of every command, as `parseArgs` takes them. */
export const OPTIONS = {
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
  normalize: { type: 'string' },
  'normalize-target': { type: 'string' },
  crossfade: { type: 'string' },
  filters: { type: 'string' },
  overlay: { type: 'string', multiple: true },
  duck: { type: 'string' },
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

/** The flags given, by name. */
export type Flags = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true } ? string[] : (typeof OPTIONS)[K]['type'] extends 'string' ? string : boolean;
};

/**
 * Parses the arguments after the command.
 * @returns the flags and the positionals (inputs).
 * @throws {@link KookRtpError} `USAGE` for an unknown flag or a missing value.
 */
export function parseFlags(rest: readonly string[]): { values: Flags; positionals: string[] } {
  try {
    return parseArgs({ args: normalizeArgs(rest), options: OPTIONS, allowPositionals: true, strict: true }) as { values: Flags; positionals: string[] };
  } catch (err) {
    if (err instanceof KookRtpError) throw err;
    throw new KookRtpError('USAGE', `${(err as Error).message} (see kook-rtp --help)`);
  }
}

const STRING_OPTIONS = new Set(Object.entries(OPTIONS).filter(([, o]) => o.type === 'string').map(([k]) => `--${k}`));

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
    } else if (a === '--normalize') {
      if (next !== undefined && ['off', 'track'].includes(next)) {
        out.push(`--normalize=${next}`);
        i++;
      } else if (next === undefined || next.startsWith('-') || looksLikeInput(next)) {
        out.push('--normalize=track');
      } else {
        throw new KookRtpError('USAGE', `--normalize must be off or track, found "${next}" (a bare --normalize is track)`);
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

/** An integer flag in [min, max], or undefined when not given. */
export function intFlag(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new KookRtpError('USAGE', `--${name} must be an integer ${min}-${max}, found "${v}"`);
  return n;
}

/** A number flag in [min, max], or undefined when not given. */
export function numFlag(v: string | undefined, name: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new KookRtpError('USAGE', `--${name} must be a number ${min}-${max}, found "${v}"`);
  return n;
}

/** `--rtcp-mux` / `--no-rtcp-mux`: true, false, or undefined when neither. */
export function muxFlag(flags: Flags): boolean | undefined {
  if (flags['rtcp-mux'] && flags['no-rtcp-mux']) throw new KookRtpError('USAGE', '--rtcp-mux and --no-rtcp-mux together');
  if (flags['rtcp-mux']) return true;
  if (flags['no-rtcp-mux']) return false;
  return undefined;
}

/** `--passthrough auto|never|always` (default auto). */
export function passthroughOption(v: string | undefined): 'auto' | 'never' | 'always' {
  if (v === undefined) return 'auto';
  if (v === 'auto' || v === 'never' || v === 'always') return v;
  throw new KookRtpError('USAGE', `--passthrough must be auto, never or always, found "${v}"`);
}

/** `--loop off|track|queue` (default off). */
export function loopOption(v: string | undefined): LoopMode {
  if (v === undefined) return 'off';
  if (v === 'off' || v === 'track' || v === 'queue') return v;
  throw new KookRtpError('USAGE', `--loop must be off, track or queue, found "${v}"`);
}
