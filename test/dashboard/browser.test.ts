/**
 * The dashboard in a real browser: Debian's Chromium, driven by puppeteer-core (which downloads no browser). The CLI
 * plays two short files into the built-in emulator with `--dashboard`; the page must chart live points, show the
 * sender's numbers, and, once the run is over, the exact final counters of `--stats-json`.
 *
 * Needs chromium (`apt-get install chromium`): required under CI=true, skipped with a warning elsewhere. The
 * screenshot goes to $KOOK_RTP_DASHBOARD_SCREENSHOT, or to the system's temp directory.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type StatsDocument } from '../../src/cli/main.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const IN_CI = process.env.CI === 'true';
const fixture = (name: string): string => fileURLToPath(new URL(`../../fixtures/media/${name}`, import.meta.url));

function chromiumRuns(): boolean {
  try {
    execFileSync(CHROMIUM, ['--version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

const hasChromium = chromiumRuns();
const run = hasChromium || IN_CI;
if (!run) console.warn(`[test/dashboard] skipping the browser test: ${CHROMIUM} is missing (apt-get install chromium; required when CI=true)`);

/** The few DOM shapes the page functions use (the project compiles without the DOM library). */
interface El {
  readonly dataset: Record<string, string | undefined>;
  readonly textContent: string | null;
  querySelectorAll(selector: string): ArrayLike<El>;
  querySelector(selector: string): Canvas | null;
}
interface Canvas {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
}
interface PageGlobals {
  readonly document: { querySelectorAll(selector: string): ArrayLike<El> };
  readonly kookRtpDashboard?: { charts: Record<string, { data: (number | null)[][] }>; ended?: boolean };
}

/** The figures of one row as the page shows them, by their `data-k` key. */
async function cells(page: Page, stream: string): Promise<Record<string, string>> {
  return page.evaluate((name) => {
    const out: Record<string, string> = {};
    const { document } = globalThis as unknown as PageGlobals;
    const row = Array.from(document.querySelectorAll('section.row')).find((s) => s.dataset['stream'] === name);
    for (const td of Array.from(row?.querySelectorAll('td[data-k]') ?? [])) out[td.dataset['k']!] = td.textContent ?? '';
    return out;
  }, stream);
}

/** Pixels of the bitrate line's blue in a row's chart canvas: proof that the points were drawn, not only received. */
async function bluePixels(page: Page, stream: string): Promise<number> {
  return page.evaluate((name) => {
    const { document } = globalThis as unknown as PageGlobals;
    const row = Array.from(document.querySelectorAll('section.row')).find((s) => s.dataset['stream'] === name);
    const canvas = row?.querySelector('canvas');
    const ctx = canvas?.getContext('2d');
    if (canvas == null || ctx == null) return -1;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let n = 0;
    for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 200 && data[i + 2]! > 170 && data[i]! < 80 && data[i + 1]! > 70 && data[i + 1]! < 140) n++;
    return n;
  }, stream);
}

describe.runIf(run)('the dashboard in Chromium (kook-rtp play --dashboard)', () => {
  let browser: Browser | undefined;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kook-rtp-dashboard-'));
    if (!hasChromium) return;
    browser = await puppeteer.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('has chromium', () => {
    // Reached without chromium only under CI=true, where its absence is a failure.
    expect(hasChromium, `the browser test needs ${CHROMIUM} (apt-get install chromium; required when CI=true)`).toBe(true);
  });

  it('charts live points and shows the sender’s numbers, then the final counters of --stats-json', async () => {
    const statsFile = join(dir, 'stats.json');
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let err = '';
    stdout.resume();
    const url = new Promise<string>((resolve) => {
      stderr.on('data', (c: Buffer) => {
        err += c.toString();
        const m = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(err);
        if (m) resolve(m[1]!);
      });
    });
    const cli = runCli(['play', fixture('speech.ogg'), fixture('steps.ogg'), '--dashboard', '--stats-json', statsFile], { stdout, stderr, isTty: false });
    const page = await browser!.newPage();
    await page.setViewport({ width: 1280, height: 900, deviceScaleFactor: 1 });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(String(e)));
    await page.goto(await url);

    // Live: at least three seconds of points with a bitrate, drawn on the canvas.
    await page.waitForFunction(
      () => {
        const c = (globalThis as unknown as PageGlobals).kookRtpDashboard?.charts['play'];
        return c !== undefined && c.data[1]!.filter((v) => v !== null && v > 0).length >= 3;
      },
      { timeout: 20_000, polling: 200 },
    );
    expect(await bluePixels(page, 'play')).toBeGreaterThan(50);
    expect(await page.$eval('#conn', (e) => e.textContent)).toBe('live');
    const live = await cells(page, 'play');
    expect(Number(live['packets'])).toBeGreaterThan(50);
    const [kbps] = /^([\d.]+) kbit\/s/.exec(live['bitrate'] ?? '')?.slice(1) ?? [];
    expect(Number(kbps)).toBeGreaterThan(10);
    // Under the kick line (the guard keeps every 1 s window at the room's 48 kbit/s; the page's second is the span
    // between two samples, about a second).
    expect(Number(kbps)).toBeLessThanOrEqual(48 * 1.2);
    expect(live['limit']).toBe('48.0 / 57.6 kbit/s');
    expect(live['queue']).toMatch(/^1: .*steps\.ogg$/);
    const emu = await cells(page, 'emulator/1001#1');
    expect(emu['source']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(emu['kicks']).toBe('0');
    expect(emu['mismatches']).toBe('0 / 0 / 0');
    expect(emu['level']).toMatch(/^-\d+\.\d dBFS \/ -?\d+\.\d dBFS$/);
    const shot = process.env.KOOK_RTP_DASHBOARD_SCREENSHOT ?? join(tmpdir(), 'kook-rtp-dashboard.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`[test/dashboard] screenshot: ${shot}`);

    // The run ends: the page keeps the last sample, which holds the final counters.
    expect(await cli).toBe(0);
    await page.waitForFunction(() => (globalThis as unknown as PageGlobals).kookRtpDashboard?.ended === true, { timeout: 10_000 });
    const doc = JSON.parse(readFileSync(statsFile, 'utf8')) as StatsDocument;
    const final = await cells(page, 'play');
    expect(Number(final['packets'])).toBe(doc.sender!.packetsSent);
    expect(Number(final['bytes-rtp'])).toBe(doc.sender!.bytes.rtp);
    expect(final['max-bps']).toBe(`${(doc.sender!.bitrate.maxBps / 1000).toFixed(1)} kbit/s`);
    expect(final['stalls']).toBe(`${doc.sender!.stalls} / ${doc.sender!.underruns}`);
    const finalEmu = await cells(page, 'emulator/1001#1');
    expect(Number(finalEmu['packets'])).toBe(doc.emulator!.packets);
    expect(Number(finalEmu['bytes-rtp'])).toBe(doc.emulator!.bytes);
    expect(await page.$eval('#conn', (e) => e.textContent)).toBe('ended');
    expect(pageErrors).toEqual([]);
    await page.close();
  }, 60_000);
});
