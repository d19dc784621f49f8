import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { register as globalRegister } from 'prom-client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createDashboard, type Dashboard } from '../../src/dashboard/dashboard.js';
import type { DashboardSource } from '../../src/dashboard/sources.js';
import type { DashboardRow } from '../../src/dashboard/sampler.js';
import { startKookEmulator, type KookEmulator } from '../../src/emulator/kook/emulator.js';
import { isKookRtpError } from '../../src/errors.js';
import { createVoiceSession, type VoiceSession } from '../../src/kook/session.js';
import { createPlayer } from '../../src/engine/player.js';
import { createRtpSender } from '../../src/engine/sender.js';
import { checkExposition, http, readEvents } from './helpers.js';

const require = createRequire(import.meta.url);
const TOKEN = 'dashboard-test-token-0123456789';

let open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const o of open.reverse()) await o.close();
  open = [];
});

async function dashboard(options: Parameters<typeof createDashboard>[0] = {}): Promise<Dashboard> {
  const d = await createDashboard({ defaultMetrics: false, ...options });
  open.push(d);
  return d;
}

/** A sender as the dashboard sees it, counting how often it is read. */
function countingSender(): { source: DashboardSource; reads: () => number } {
  let reads = 0;
  const stats = {
    status: 'playing', ssrc: 7, packetsSent: 50, silenceFramesSent: 0, bytes: { payload: 4000, rtp: 4600, ip: 6000 },
    bitrate: { currentBps: 36800, maxBps: 36800 }, lateness: { count: 50, p50Ms: 0.1, p99Ms: 0.5, p999Ms: 0.9, maxMs: 1, meanMs: 0.2 },
    stalls: 0, underruns: 0, guard: undefined,
    rtcp: { srSent: 1, rrSent: 0, byeSent: 0, bytesSent: 0, received: 0, malformed: 0, reportsReceived: 0, byeReceived: 0 },
    remote: undefined, sendErrors: 0, sendSkipped: 0, sequenceNumber: 0, rollovers: 0, timestamp: 0, queued: 0,
  };
  const sender = { stats: () => (reads++, stats), play: () => undefined };
  return { source: sender as unknown as DashboardSource, reads: () => reads };
}

describe('createDashboard: the page', () => {
  it('serves the page, its script and uPlot from node_modules, with no outside URL and a strict CSP', async () => {
    const d = await dashboard({ title: 'my <bot>' });
    expect(d.url).toBe(`http://127.0.0.1:${d.port}/`);
    const page = await http(d.url);
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('<title>my &#60;bot&#62;</title>');
    expect(page.body).toContain('src="assets/uPlot.iife.min.js"');
    const js = await http(`${d.url}app.js`);
    for (const text of [page.body, js.body]) expect(text).not.toMatch(/https?:\/\//);
    const uplot = await http(`${d.url}assets/uPlot.iife.min.js`);
    expect(uplot.status).toBe(200);
    expect(uplot.body).toBe(readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'));
    expect((await http(`${d.url}assets/uPlot.min.css`)).status).toBe(200);
    expect((await http(`${d.url}nope`)).status).toBe(404);
  });

  it('streams a hello with the history, then one tick per interval, and ends the stream on close()', async () => {
    const s = countingSender();
    const d = await dashboard({ senders: [s.source], intervalMs: 100 });
    const events = readEvents(`${d.url}events`);
    expect(await events.status).toBe(200);
    const [hello] = await events.waitFor('hello', 1);
    const h = JSON.parse(hello!.data) as { rows: DashboardRow[]; history: Record<string, unknown[]> };
    expect(h.rows.map((r) => [r.name, r.kind, r.sender?.packets])).toEqual([['sender-1', 'sender', 50]]);
    expect(h.history['sender-1']!.length).toBeGreaterThanOrEqual(1);
    const ticks = await events.waitFor('tick', 3);
    expect((JSON.parse(ticks[2]!.data) as { rows: DashboardRow[] }).rows[0]!.sender?.bytes.rtp).toBe(4600);
    expect(d.clients).toBe(1);
    await d.close();
    await events.ended;
    expect(events.events.at(-1)?.event).toBe('end');
    await expect(http(d.url)).rejects.toThrow();
  });

  it('reads each source once per sample and builds no JSON while no page is connected', async () => {
    const s = countingSender();
    const d = await dashboard({ senders: [s.source], intervalMs: 60_000 });
    const before = s.reads();
    const stringify = vi.spyOn(JSON, 'stringify');
    try {
      d.sample();
      d.sample();
      expect(s.reads() - before).toBe(2);
      expect(stringify).not.toHaveBeenCalled();
      const events = readEvents(`${d.url}events`);
      await events.waitFor('hello', 1);
      stringify.mockClear();
      d.sample();
      expect(stringify).toHaveBeenCalledTimes(1);
      events.close();
    } finally {
      stringify.mockRestore();
    }
  });

  it('refuses a port in use with SOCKET_ERROR', async () => {
    const d = await dashboard();
    const err = await createDashboard({ port: d.port, defaultMetrics: false }).then(
      (x) => (open.push(x), undefined),
      (e: unknown) => e,
    );
    expect(isKookRtpError(err, 'SOCKET_ERROR')).toBe(true);
  });

  it('without a token, answers only requests addressed to the loopback (no DNS rebinding)', async () => {
    const d = await dashboard();
    expect((await http(d.url, { headers: { host: `localhost:${d.port}` } })).status).toBe(200);
    expect((await http(d.url, { headers: { host: `evil.example:${d.port}` } })).status).toBe(421);
    expect((await http(`${d.url}metrics`, { headers: { host: 'evil.example' } })).status).toBe(421);
  });
});

describe('createDashboard: access', () => {
  it.each([
    { name: '0.0.0.0 without a token', host: '0.0.0.0', token: undefined },
    { name: ':: without a token', host: '::', token: undefined },
    { name: '127.0.0.2 without a token', host: '127.0.0.2', token: undefined },
    { name: 'a short token', host: '0.0.0.0', token: 'short' },
  ])('refuses to start on $name (TOKEN_REQUIRED)', async ({ host, token }) => {
    const err = await createDashboard({ host, ...(token === undefined ? {} : { token }) }).then(
      (d) => (open.push(d), undefined),
      (e: unknown) => e,
    );
    expect(isKookRtpError(err, 'TOKEN_REQUIRED')).toBe(true);
    expect(String((err as Error).message)).not.toContain('short');
  });

  it('with a token: a login form, bearer or cookie access, and the token in no answer', async () => {
    const d = await dashboard({ host: '127.0.0.2', token: TOKEN, senders: [countingSender().source] });
    expect(d.url).toBe(`http://127.0.0.2:${d.port}/`);
    const answers = [];
    // No credentials: the login form, and 401 for everything with data.
    const login = await http(d.url);
    answers.push(login);
    expect(login.status).toBe(200);
    expect(login.body).toContain('<form class="login"');
    expect(login.body).not.toContain('uPlot');
    for (const path of ['metrics', 'events', 'api/state', 'app.js']) {
      const a = await http(`${d.url}${path}`);
      answers.push(a);
      expect(a.status, path).toBe(401);
    }
    const wrong = await http(`${d.url}metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expect(wrong.status).toBe(401);
    // Bearer, as a Prometheus scraper sends it.
    const metrics = await http(`${d.url}metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    answers.push(metrics);
    expect(metrics.status).toBe(200);
    expect(metrics.body).toContain('kook_rtp_packets_sent_total{stream="sender-1"} 50');
    // The form: a wrong token is refused, the right one sets a cookie that is not the token.
    const bad = await http(`${d.url}login`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nope' });
    answers.push(bad);
    expect(bad.status).toBe(401);
    const good = await http(`${d.url}login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: TOKEN }).toString(),
    });
    answers.push(good);
    expect(good.status).toBe(303);
    const cookie = String(good.headers['set-cookie']).split(';')[0]!;
    expect(cookie).toMatch(/^kook_rtp_dashboard=[0-9a-f]{64}$/);
    expect(String(good.headers['set-cookie'])).toContain('HttpOnly');
    const page = await http(d.url, { headers: { cookie } });
    answers.push(page);
    expect(page.body).toContain('assets/uPlot.iife.min.js');
    answers.push(await http(`${d.url}api/state`, { headers: { cookie } }));
    expect(answers.at(-1)!.status).toBe(200);
    const events = readEvents(`${d.url}events`, { cookie });
    expect(await events.status).toBe(200);
    await events.waitFor('hello', 1);
    events.close();
    // A forged cookie is refused.
    expect((await http(`${d.url}api/state`, { headers: { cookie: `kook_rtp_dashboard=${'0'.repeat(64)}` } })).status).toBe(401);
    for (const a of [...answers, { body: events.events.map((e) => e.data).join('\n'), headers: {} }]) {
      expect(a.body).not.toContain(TOKEN);
      expect(JSON.stringify(a.headers)).not.toContain(TOKEN);
    }
  });
});

describe('createDashboard: an emulator', () => {
  it('exports a kick as kook_rtp_emulator_kicks_total 1, with the mismatches', async () => {
    const kicked = {
      channelId: '1001', port: 4000, startedAt: 1, bitrate: 48000, killRatio: 1.2, source: '127.0.0.1:5', packets: 30, bytes: 9000,
      lost: 0, duplicates: 0, outOfOrder: 0, jitterMs: 0.5, maxBitrate1s: 58400, ssrcMismatches: 2, ptMismatches: 3,
      droppedFromOtherSources: 4, levelDbfs: -20, peakDbfs: -3, keepAlives: 0, closeReason: 'kicked', firstPacketAt: 10,
      lastPacketAt: 600, endedAt: 600, kicked: { reason: 'bitrate', windowBitrate: 58400, limit: 57600, atMs: 600 },
      rtcp: { srs: 1, rrsSent: 1, byes: 0, cname: 'x' }, ssrc: 1111, payloadType: 111,
    };
    const emulator = { apiBase: 'http://127.0.0.1:1/api/v3', reports: () => [kicked] };
    const d = await dashboard({ emulators: [emulator as unknown as DashboardSource] });
    const text = (await http(`${d.url}metrics`)).body;
    expect(checkExposition(text)).toEqual([]);
    const stream = 'stream="emulator-1/1001#1"';
    for (const line of [
      `kook_rtp_emulator_kicks_total{${stream}} 1`,
      `kook_rtp_emulator_ssrc_mismatches_total{${stream}} 2`,
      `kook_rtp_emulator_pt_mismatches_total{${stream}} 3`,
      `kook_rtp_emulator_dropped_other_source_total{${stream}} 4`,
      `kook_rtp_emulator_level_dbfs{${stream}} -20`,
      `kook_rtp_bitrate_max_bits_per_second{${stream}} 58400`,
    ]) {
      expect(text.split('\n')).toContain(line);
    }
  });
});

describe('createDashboard: a player', () => {
  it('shows its track, position, queue and room bitrate (from its progress events), and follows its sender', async () => {
    const sink = createSocket('udp4');
    sink.on('message', () => undefined);
    await new Promise<void>((r) => sink.bind(0, '127.0.0.1', () => r()));
    open.push({ close: () => new Promise<void>((r) => sink.close(() => r())) });
    const sender = createRtpSender({ target: { host: '127.0.0.1', port: (sink.address() as AddressInfo).port }, roomBitrate: 32000 });
    const player = createPlayer({ sender, roomBitrate: 32000 });
    open.push({ close: () => player.destroy() });
    const d = await dashboard({ players: [player] });
    player.enqueue(new URL('../../fixtures/media/speech.ogg', import.meta.url).pathname, { title: 'speech' });
    player.enqueue(new URL('../../fixtures/media/steps.ogg', import.meta.url).pathname, { title: 'steps' });
    // The player's first progress event (a second into the track) tells the room's bitrate.
    await once(player, 'progress');
    const row = d.sample().rows[0]!;
    expect(row).toMatchObject({ name: 'player-1', kind: 'player', status: 'playing', limitBps: 32000, kickBps: 38400 });
    expect(row.player).toMatchObject({ title: 'speech', durationSec: 8.5, queue: ['steps'] });
    expect(row.player!.positionSec).toBeGreaterThan(0.5);
    expect(row.sender!.packets).toBe(sender.stats().packetsSent);
  });
});

describe('createDashboard: /metrics against a real stream', () => {
  let emulator: KookEmulator;
  let session: VoiceSession;

  it('parses as Prometheus text, and its counters equal sender.stats() and the emulator report', async () => {
    emulator = await startKookEmulator({ bitrate: 48000 });
    open.push(emulator);
    session = createVoiceSession({ token: emulator.token, apiBase: emulator.apiBase, channelId: '1001', keepAliveMs: 0 });
    open.push({ close: () => session.leave() });
    const d = await createDashboard({ sessions: [session], emulators: [emulator], intervalMs: 250 });
    open.push(d);
    await session.join();
    const item = session.player.enqueue(new URL('../../fixtures/media/speech.ogg', import.meta.url).pathname);
    // Mid-stream: the page's per-second bitrate is under the kick line and not zero.
    await new Promise((r) => setTimeout(r, 3000));
    const live = d.rows().find((r) => r.name === 'session-1')!;
    expect(live.status).toBe('playing');
    expect(live.point.bps).toBeGreaterThan(10_000);
    expect(live.point.bps).toBeLessThanOrEqual(48000 * 1.2);
    expect(live.player?.title).toMatch(/speech\.ogg$/);
    const end = await item.done;
    expect(end.reason, end.error?.message).toBe('finished');
    // The player is idle, the sender still open: its counters no longer move.
    const stats = session.sender!.stats();
    // Let the last datagrams reach the emulator (same process, next turns of the loop).
    for (let i = 0; i < 50 && emulator.reports().at(-1)!.packets < stats.packetsSent; i++) await new Promise((r) => setTimeout(r, 20));
    const report = emulator.reports().at(-1)!;
    const res = await fetch(`${d.url}metrics`);
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(checkExposition(text)).toEqual([]);

    const families = new Map(parsePrometheusTextFormat(text).map((f) => [f.name, f]));
    const value = (name: string, labels: Record<string, string>): number => {
      const f = families.get(name);
      expect(f, name).toBeDefined();
      const m = f!.metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v));
      expect(m, `${name} ${JSON.stringify(labels)}`).toBeDefined();
      return Number(m!.value);
    };
    const bot = { stream: 'session-1' };
    const emu = { stream: 'emulator-1/1001#1' };
    expect(families.get('kook_rtp_packets_sent_total')?.type).toBe('COUNTER');
    expect(value('kook_rtp_packets_sent_total', bot)).toBe(stats.packetsSent);
    expect(stats.packetsSent).toBeGreaterThan(150);
    expect(value('kook_rtp_silence_frames_sent_total', bot)).toBe(stats.silenceFramesSent);
    expect(value('kook_rtp_sent_bytes_total', { ...bot, layer: 'payload' })).toBe(stats.bytes.payload);
    expect(value('kook_rtp_sent_bytes_total', { ...bot, layer: 'rtp' })).toBe(stats.bytes.rtp);
    expect(value('kook_rtp_sent_bytes_total', { ...bot, layer: 'ip' })).toBe(stats.bytes.ip);
    expect(value('kook_rtp_stalls_total', bot)).toBe(stats.stalls);
    expect(value('kook_rtp_underruns_total', bot)).toBe(stats.underruns);
    expect(value('kook_rtp_guard_delayed_packets_total', bot)).toBe(stats.guard!.delayedPackets);
    expect(value('kook_rtp_bitrate_max_bits_per_second', bot)).toBe(stats.bitrate.maxBps);
    expect(value('kook_rtp_room_bitrate_bits_per_second', bot)).toBe(48000);
    expect(value('kook_rtp_remote_rtt_seconds', bot)).toBeCloseTo(stats.remote!.rttMs! / 1000, 9);
    expect(value('kook_rtp_emulator_packets_received_total', emu)).toBe(report.packets);
    expect(report.packets).toBe(stats.packetsSent);
    expect(value('kook_rtp_emulator_received_bytes_total', emu)).toBe(report.bytes);
    expect(value('kook_rtp_emulator_kicks_total', emu)).toBe(0);
    // The lateness summary (the parser folds labelled summaries together, so read its lines directly).
    const line = (re: RegExp): number => Number(re.exec(text)?.[1]);
    expect(text).toContain('# TYPE kook_rtp_send_lateness_seconds summary');
    expect(line(/^kook_rtp_send_lateness_seconds_count\{stream="session-1"\} (\S+)$/m)).toBe(stats.lateness.count);
    expect(line(/^kook_rtp_send_lateness_seconds\{stream="session-1",quantile="0.99"\} (\S+)$/m)).toBeCloseTo(stats.lateness.p99Ms / 1000, 12);
    expect(line(/^kook_rtp_send_lateness_seconds_sum\{stream="session-1"\} (\S+)$/m)).toBeCloseTo((stats.lateness.meanMs * stats.lateness.count) / 1000, 9);
    // prom-client's default Node metrics are there, in the dashboard's own registry, not the global one.
    expect(families.has('process_cpu_user_seconds_total')).toBe(true);
    expect(families.has('nodejs_eventloop_lag_seconds')).toBe(true);
    expect(d.registry).not.toBe(globalRegister);
    expect(await globalRegister.metrics()).not.toContain('kook_rtp_');
  });
});
