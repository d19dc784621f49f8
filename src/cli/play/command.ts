/**
 * `kook-rtp play <input...>`: the steps of a play, each in its own module. Flags first (`flags.ts`; every check that
 * can fail is made before anything plays), then the recorders (`recorders.ts`), the target and its player
 * (`target.ts`), the events (`events.ts`), the queue, and the end (`teardown.ts`: closing, stats, exit status).
 */
import type { QueueItem } from '../../engine/player.js';
import type { RtpSender } from '../../engine/sender.js';
import { opusBackendInfo } from '../../media/opus/encoder.js';
import { KookRtpError } from '../../errors.js';
import { checkInputs, checkOutputPath } from '../checks.js';
import { startDashboard, type PlayHooks } from '../dashboard.js';
import type { Flags } from '../flags.js';
import { CliOutput, opusBackendLine, outputMode } from '../output.js';
import { watchSignals, watchTracks } from './events.js';
import { readPlayFlags, trackOptions } from './flags.js';
import { openRecorders } from './recorders.js';
import { openPlayTarget } from './target.js';
import { finishPlay } from './teardown.js';

/**
 * Plays `inputs` as one stream.
 * @param hooks - filled with what must be closed even if the play fails half-way (the dashboard).
 * @returns the exit status (see `finishPlay`).
 * @throws {@link KookRtpError} `USAGE` (exit 2) for bad flags, a missing input or an unwritable output; the join's
 *   errors.
 */
export async function playCommand(inputs: string[], flags: Flags, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream, isTty: boolean, hooks: PlayHooks): Promise<number> {
  if (inputs.length === 0) throw new KookRtpError('USAGE', 'play needs at least one input file or URL');
  if (flags.to && flags.channel) throw new KookRtpError('USAGE', 'give either --to or --channel, not both');
  const out = new CliOutput(outputMode(flags, isTty), stdout);
  const settings = readPlayFlags(flags);
  checkInputs(inputs);
  checkInputs(settings.overlays.map((o) => o.path));
  for (const [flag, path] of Object.entries(settings.outputs)) await checkOutputPath(`--${flag}`, path);
  const dashboard = await startDashboard(flags, stderr);
  if (dashboard !== undefined) hooks.dashboard = dashboard;
  const backend = opusBackendInfo();
  out.info(opusBackendLine(backend));
  out.event('encoder', { ...backend });

  let sender: () => RtpSender | undefined = () => undefined;
  const recorders = await openRecorders(settings.outputs, () => sender());
  const conn = await openPlayTarget({ flags, settings, out, dashboard, onPacket: recorders.onPacket, onSender: (s) => (sender = s) });
  const { player } = conn;
  const signals = watchSignals(player);
  const records = watchTracks(player, out);

  const items: QueueItem[] = inputs.map((input, i) => {
    const item = player.enqueue(input, {
      ...(i === 0 && settings.seek !== undefined ? { seek: settings.seek } : {}),
      track: trackOptions(settings),
    });
    records.set(item.id, { title: item.title });
    return item;
  });
  // --overlay: each clip S seconds after the music starts, ducking it.
  const overlays: Promise<unknown>[] = [];
  const timers: NodeJS.Timeout[] = [];
  if (settings.overlays.length > 0) {
    player.once('trackStart', () => {
      for (const o of settings.overlays) {
        timers.push(setTimeout(() => {
          if (player.state.status === 'stopped') return;
          const ov = player.overlay(o.path, { duckDb: settings.duckDb });
          out.event('overlay', { title: ov.title });
          overlays.push(ov.done);
        }, o.atSec * 1000));
      }
    });
  }
  await Promise.all(items.map((i) => i.done));
  if (settings.loop !== 'off') await player.drained();
  for (const t of timers) clearTimeout(t);
  await Promise.all(overlays);
  await player.drained();
  out.done();
  return finishPlay({ settings, conn, recorders, records, signals, dashboard, out, stdout, stderr });
}
