/**
 * A bot against the built-in KOOK emulator: no KOOK account, no network. Run it with
 * `npx tsx examples/emulator.ts [file]`; the test suite runs it too (test/examples.test.ts).
 *
 * In your own project import from 'kook-rtp' and 'kook-rtp/emulator' instead of '../src/index.js' and
 * '../src/emulator/index.js'.
 */
import { fileURLToPath } from 'node:url';
import { createVoiceSession } from '../src/index.js';
import { startKookEmulator, type KookStreamReport } from '../src/emulator/index.js';

/** Plays `file` into channel 1001 of a fresh emulator; resolves with what the emulator received. */
export async function main(file = fileURLToPath(new URL('../fixtures/media/sine-opus-48k.ogg', import.meta.url))): Promise<KookStreamReport> {
  // An HTTP server on 127.0.0.1 (a free port) speaking KOOK's voice API, and a UDP endpoint per joined channel.
  const emulator = await startKookEmulator({ bitrate: 48000 });
  // apiBase is http://127.0.0.1:PORT/api/v3; the token is random (pass `token` to choose it);
  // the voice channels are 1001, 1002 and 1003 (pass `channels` to choose them).
  console.log(`emulator at ${emulator.apiBase}`);
  try {
    const session = createVoiceSession({ token: emulator.token, apiBase: emulator.apiBase, channelId: '1001' });
    const join = await session.join();
    console.log(`joined: rtp://${join.ip}:${join.port}, room ${join.bitrate} bit/s, ssrc ${join.audioSsrc}`);
    const item = session.player.enqueue(file);
    session.player.on('trackEnd', ({ reason, playedSec }) => console.log(`track ${reason} after ${playedSec.toFixed(1)} s`));
    await item.done;
    await session.leave(); // RTCP BYE, socket closed, voice/leave
    const report = emulator.reports().at(-1)!;
    console.log(`the emulator received ${report.packets} packets, lost ${report.lost}, max 1 s bitrate ${report.maxBitrate1s} bit/s`);
    return report;
  } finally {
    await emulator.close();
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main(process.argv[2]);
}
