import { spawn } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createKookClient } from '../../src/kook/client.js';
import type { DashboardRow } from '../../src/dashboard/sampler.js';
import { runCli } from '../../src/cli/main.js';
import { runCliInProcess } from '../helpers.js';

const F = (name: string): string => new URL(`../../fixtures/media/${name}`, import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;
const BIN = new URL('../../bin/kook-rtp.js', import.meta.url).pathname;
const SECRET = 'cli-dashboard-secret-4f1d2c9a';

describe('kook-rtp --dashboard', () => {
  it.each([
    { name: 'another host without a token', args: ['--dashboard', '--dashboard-host', '0.0.0.0'], message: /access token/ },
    { name: 'a short token', args: ['--dashboard', '--dashboard-host', '0.0.0.0', '--dashboard-token', 'abc'], message: /at least 16 characters/ },
    { name: '--dashboard-token without --dashboard', args: ['--dashboard-token', SECRET], message: /go with --dashboard/ },
    { name: 'a port out of range', args: ['--dashboard', '70000'], message: /--dashboard must be an integer 0-65535/ },
  ])('refuses $name (exit 2, nothing played)', async ({ args, message }) => {
    const r = await runCliInProcess(['play', F('steps.ogg'), ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^kook-rtp: USAGE: /);
    expect(r.err).toMatch(message);
    expect(r.err).not.toContain('dashboard: http');
    expect(r.out).toBe('');
  });

  it('play: prints "dashboard: URL" on stderr before playing, keeps stdout for the report, and never prints the token', async () => {
    const r = await runCliInProcess(['play', F('steps.ogg'), '--dashboard', '--dashboard-token', SECRET]);
    expect(r.code).toBe(0);
    expect(r.err.split('\n').filter((l) => l.startsWith('dashboard: '))).toEqual([expect.stringMatching(/^dashboard: http:\/\/127\.0\.0\.1:\d+\/$/)]);
    expect(r.out).toContain('KOOK emulator report');
    expect(r.out).not.toContain('dashboard');
    expect(`${r.out}${r.err}`).not.toContain(SECRET);
  });

  it('play: the dashboard line comes before anything about the stream', async () => {
    // stdout and stderr into one stream, to see the order.
    const both = new PassThrough();
    let text = '';
    both.on('data', (c: Buffer) => (text += c.toString()));
    const code = await runCli(['play', F('sine-opus-48k.ogg'), '--dashboard'], { stdout: both, stderr: both, isTty: false });
    expect(code).toBe(0);
    const lines = text.split('\n');
    const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
    expect(at(/^dashboard: http/)).toBeGreaterThanOrEqual(0);
    expect(at(/^dashboard: http/)).toBeLessThan(at(/^KOOK emulator at /));
    expect(at(/^KOOK emulator at /)).toBeLessThan(at(/^→ rtp:\/\//));
  });

  it('emulator --dashboard: the line, the URL in the JSON line, and a row per join', async () => {
    const child = spawn(process.execPath, [BIN, 'emulator', '--dashboard'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      const started = Date.now();
      while (!out.includes('\n') && Date.now() - started < 30_000) await new Promise((r) => setTimeout(r, 50));
      const first = JSON.parse(out.split('\n')[0]!) as { apiBase: string; token: string; dashboard: string };
      expect(err).toContain(`dashboard: ${first.dashboard}\n`);
      expect(first.dashboard).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const client = createKookClient({ token: first.token, apiBase: first.apiBase });
      await client.join({ channelId: '1002' });
      let rows: DashboardRow[] = [];
      for (let i = 0; i < 40 && rows.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        rows = ((await (await fetch(`${first.dashboard}api/state`)).json()) as { rows: DashboardRow[] }).rows;
      }
      expect(rows.map((r) => [r.name, r.kind, r.status, r.limitBps])).toEqual([['emulator/1002#1', 'emulator', 'waiting', 48000]]);
      const metrics = await (await fetch(`${first.dashboard}metrics`)).text();
      expect(metrics).toContain('kook_rtp_emulator_kicks_total{stream="emulator/1002#1"} 0');
      expect(metrics).toContain('process_cpu_user_seconds_total');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  }, 60_000);
});
