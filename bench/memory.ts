/**
 * Memory of one long track: a synthetic two-hour WAV (44.1 kHz stereo, a tone under noise, generated on the fly and
 * handed over as an AsyncIterable, so nothing but the pipeline holds it) played through openTrack into Opus frames as
 * fast as the CPU allows. Prints heap and RSS after a forced GC every ten minutes of audio: a pipeline that streams
 * keeps them flat, one that buffers grows by ~10 MB per minute of audio.
 *
 * Run: node --expose-gc --import tsx bench/memory.ts [--minutes 120]
 */
import { openTrack } from '../src/media/track.js';

const arg = process.argv.indexOf('--minutes');
const minutes = arg > 0 ? Number(process.argv[arg + 1]) : 120;
const rate = 44_100;
const totalFrames = Math.round(minutes * 60 * rate);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('run with --expose-gc for stable heap figures');

function wavHeader(frames: number): Uint8Array {
  const h = Buffer.alloc(44);
  const dataBytes = frames * 4;
  h.write('RIFF', 0);
  h.writeUInt32LE(Math.min(0xffffffff, 36 + dataBytes), 4);
  h.write('WAVE', 8);
  h.write('fmt ', 12);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(2, 22);
  h.writeUInt32LE(rate, 24);
  h.writeUInt32LE(rate * 4, 28);
  h.writeUInt16LE(4, 32);
  h.writeUInt16LE(16, 34);
  h.write('data', 36);
  h.writeUInt32LE(Math.min(0xffffffff, dataBytes), 40);
  return h;
}

async function* wav(): AsyncGenerator<Uint8Array> {
  yield wavHeader(totalFrames);
  const chunkFrames = 16_384;
  let seed = 1;
  for (let done = 0; done < totalFrames; done += chunkFrames) {
    const n = Math.min(chunkFrames, totalFrames - done);
    const out = new Int16Array(n * 2);
    for (let i = 0; i < n; i++) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const v = 6000 * Math.sin((2 * Math.PI * 440 * (done + i)) / rate) + ((seed >>> 16) - 32768) / 16;
      out[2 * i] = v;
      out[2 * i + 1] = v;
    }
    yield new Uint8Array(out.buffer);
  }
}

const mb = (n: number): string => `${(n / 1048576).toFixed(1)} MB`;
gc?.();
const base = process.memoryUsage();
const track = await openTrack(wav(), { roomBitrate: 48_000 });
let samples = 0;
let nextMark = 10 * 60 * 48_000;
let peakRss = 0;
let firstHeap: number | undefined;
let lastHeap = 0;
const t0 = process.cpuUsage();
for await (const frame of track) {
  samples += frame.samples;
  if (samples >= nextMark) {
    gc?.();
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    firstHeap ??= m.heapUsed;
    lastHeap = m.heapUsed;
    console.log(`${(samples / 48_000 / 60).toFixed(0).padStart(4)} min of audio: heap ${mb(m.heapUsed)}, external ${mb(m.external)}, rss ${mb(m.rss)}`);
    nextMark += 10 * 60 * 48_000;
  }
}
const cpu = process.cpuUsage(t0);
const audioSec = samples / 48_000;
console.log(
  `played ${(audioSec / 60).toFixed(1)} min in ${((cpu.user + cpu.system) / 1e6).toFixed(1)} CPU s (${(audioSec / ((cpu.user + cpu.system) / 1e6)).toFixed(0)}x real time); ` +
    `baseline heap ${mb(base.heapUsed)}, rss ${mb(base.rss)}; peak rss ${mb(peakRss)}; heap growth from the first mark to the last ${mb(lastHeap - (firstHeap ?? lastHeap))}`,
);
