/**
 * `--pcap FILE` and `--record FILE`: recorders fed with every packet the sender sends, closed (and their write
 * errors reported) at the end of the play.
 */
import type { RtpSender } from '../../engine/sender.js';
import type { PacketRecorder } from '../../record/recorders.js';
import type { PacketKind } from '../../transport/transport.js';
import { describeError } from '../output.js';
import type { PlaySettings } from './flags.js';

// Loaded only by the runs that record: a plain push starts faster without their module graph.
const loadRecorders = (): Promise<typeof import('../../record/recorders.js')> => import('../../record/recorders.js');

/** The recorders of a play and the sender hook that feeds them. */
export interface PlayRecorders {
  readonly recorders: readonly PacketRecorder[];
  /** The sender's `onPacket`, or undefined when nothing records. */
  readonly onPacket: ((bytes: Uint8Array, kind: PacketKind, timeMs: number) => void) | undefined;
}

/**
 * Opens the recorders the outputs ask for.
 * @param sender - the sender whose transport the packets go through, once there is one.
 */
export async function openRecorders(outputs: PlaySettings['outputs'], sender: () => RtpSender | undefined): Promise<PlayRecorders> {
  const recorders: PacketRecorder[] = [];
  if (outputs.pcap || outputs.record) {
    const { createOggRecorder, createPcapRecorder } = await loadRecorders();
    if (outputs.pcap) recorders.push(createPcapRecorder(outputs.pcap));
    if (outputs.record) recorders.push(createOggRecorder(outputs.record));
  }
  const onPacket =
    recorders.length === 0
      ? undefined
      : (bytes: Uint8Array, kind: PacketKind, timeMs: number): void => {
          const info = sender()?.transport?.info;
          if (info === undefined) return;
          const wall = performance.timeOrigin + timeMs;
          for (const r of recorders) r.write(bytes, kind, wall, info);
        };
  return { recorders, onPacket };
}

/**
 * Closes every recorder; a failure is one line on stderr (`kook-rtp: CODE: message`).
 * @returns true when one failed (the play then exits 1).
 */
export async function closeRecorders(recorders: readonly PacketRecorder[], stderr: NodeJS.WritableStream): Promise<boolean> {
  let failed = false;
  for (const r of recorders) {
    try {
      await r.close();
    } catch (err) {
      failed = true;
      stderr.write(`kook-rtp: ${describeError(err)}\n`);
    }
  }
  return failed;
}
