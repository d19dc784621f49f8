/** `--dashboard [PORT]` for play and emulator: the live page and `/metrics`, started before anything plays. */
import { KookRtpError, isKookRtpError } from '../errors.js';
import type { Dashboard } from '../dashboard/dashboard.js';
import { intFlag, type Flags } from './flags.js';

const loadDashboard = (): Promise<typeof import('../dashboard/dashboard.js')> => import('../dashboard/dashboard.js');

/** What a run started that must be closed even when it fails half-way. */
export interface PlayHooks {
  dashboard?: Dashboard;
}

/**
 * Starts the dashboard when `--dashboard` was given, and prints its one line on stderr (stdout stays the report or
 * the JSON lines). The token is checked by createDashboard and never printed.
 */
export async function startDashboard(flags: Flags, stderr: NodeJS.WritableStream): Promise<Dashboard | undefined> {
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
