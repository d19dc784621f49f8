/**
 * Makes docs/dashboard.png: the dashboard of a bot with two voice sessions in the built-in KOOK emulator, one playing
 * a queue under the bitrate guard, one pushing a 128 kbit/s Opus file with the guard off (the emulator kicks it at
 * 120% of the room's 48 kbit/s). Taken with Debian's chromium through puppeteer-core, after about 45 s. The browser
 * starts first and the page stays open throughout: launching chromium on a busy 2-core machine mid-stream would show
 * up as stalls that are not the dashboard's.
 *
 *   npx tsx docs/dashboard-screenshot.ts [docs/dashboard.png]
 */
import puppeteer from 'puppeteer-core';
import { createDashboard, createVoiceSession } from '../src/index.js';
import { startKookEmulator } from '../src/emulator/index.js';

const out = process.argv[2] ?? 'docs/dashboard.png';
const media = (name: string): string => new URL(`../fixtures/media/${name}`, import.meta.url).pathname;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const browser = await puppeteer.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] });
const page = await browser.newPage();
await page.setViewport({ width: 1280, height: 800, deviceScaleFactor: 1 });
await page.emulateMediaFeatures([{ name: 'prefers-color-scheme', value: 'light' }]);

const emulator = await startKookEmulator({ bitrate: 48000 });
const dashboard = await createDashboard({ title: 'kook-rtp · my bot', emulators: [emulator] });
await page.goto(dashboard.url);
const music = createVoiceSession({ token: emulator.token, apiBase: emulator.apiBase, channelId: '1001', player: { loop: 'queue' } });
dashboard.add(music, { name: 'music' });
await music.join();
for (const f of ['speech.ogg', 'steps.mp3', 'sine-stereo-44k-vbr.mp3']) music.player.enqueue(media(f), { title: f });

await sleep(30_000);
const loud = createVoiceSession({ token: emulator.token, apiBase: emulator.apiBase, channelId: '1002', sender: { guard: { enabled: false } } });
dashboard.add(loud, { name: 'loud (no guard)' });
await loud.join();
loud.player.enqueue(media('sine-opus-128k.ogg'), { title: 'sine-opus-128k.ogg', track: { passthrough: 'always' } });
await sleep(15_000);

await page.screenshot({ path: out, fullPage: true });
await browser.close();
await loud.leave();
await music.leave();
await dashboard.close();
await emulator.close();
console.log(`wrote ${out}`);
