/**
 * The `kook-rtp` command line: `play`, `emulator`, `probe`, `sdp`.
 *
 * Exit status: 0 when every track played; 1 when a track failed or the far side closed the stream; 2 for a usage
 * error; 130 after SIGINT. Errors are one line on stderr (`kook-rtp: CODE: message`), with the stack only under
 * `--verbose`. The bot token is never printed.
 *
 * Where things are: the flags (every command's, and the usage text) in `flags.ts`; `play` in `play/` (its steps one
 * module each, starting at `play/command.ts`); `emulator` in `emulator.ts`; `probe` and `sdp` here.
 */
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { KookRtpError, isKookRtpError } from '../errors.js';
import { probe } from '../media/probe.js';
import { buildOpusSdp } from '../wire/sdp.js';
import { MAX_VOLUME } from '../util/volume.js';
import type { PlayHooks } from './dashboard.js';
import { emulatorCommand } from './emulator.js';
import { intFlag, muxFlag, numFlag, parseFlags, passthroughOption, USAGE } from './flags.js';
import { describeError } from './output.js';
import { playCommand } from './play/command.js';
import { defaultCname, parseRtpUrl } from './target.js';

// What the tests and embedders import from here, wherever it lives now.
export { checkInputs, checkOutputPath } from './checks.js';
export { normalizeArgs } from './flags.js';
export { describeError, opusBackendLine } from './output.js';
export { formatReport, type StatsDocument } from './play/report.js';
export { defaultCname } from './target.js';

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
    const { values: flags, positionals } = parseFlags(rest);
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

/** The version in package.json (two folders up from both src/cli and dist/cli). */
function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
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
