/** `kook-rtp emulator`: the built-in KOOK emulator on its own, for a bot in another process. */
import type { Dashboard } from '../dashboard/dashboard.js';
import { startDashboard } from './dashboard.js';
import { intFlag, type Flags } from './flags.js';

const loadEmulator = (): Promise<typeof import('../emulator/kook/emulator.js')> => import('../emulator/kook/emulator.js');

/** Runs the emulator until SIGINT or SIGTERM, printing its `apiBase`, `token` and channels as JSON. */
export async function emulatorCommand(flags: Flags, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<number> {
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
