/**
 * `npm run bench [-- --quick]`: every benchmark, one after another, each in its own process so one's JIT state or
 * garbage does not weigh on the next.
 *
 * - wire: RTP/RTCP encode and decode, packets/s (bench/wire.ts)
 * - media-dsp: resampler, framer, Opus encode, x real time (bench/media-dsp.ts; full run only)
 * - media: file to Opus frames per format, x real time, with ffmpeg's figure beside it (bench/media.ts; full run only)
 * - memory: a two-hour track through openTrack, heap and RSS every ten minutes (bench/memory.ts; full run only)
 * - engine: 1 to 1000 concurrent paced streams: lateness p99, CPU and memory per stream (bench/engine.ts)
 * - compare: kook-rtp against the reference `ffmpeg -re ... -f rtp` side by side, writing bench/results.json,
 *   bench/results.md and bench/bitrate.svg (bench/compare.ts)
 * - scale: N transcoded streams in one process against N ffmpeg processes, a blocked host loop, one stream against
 *   GStreamer, 1000 passthrough streams, writing bench/scale-results.{json,md} and bench/scale.svg (bench/scale.ts)
 *
 * `--quick` runs short versions of wire, engine and scale (results to /tmp): a few minutes on the 2-core machine.
 * Builds the CLI first (`npm run build`) so the side-by-side run measures compiled JavaScript, not tsx at start-up.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const quick = process.argv.includes('--quick');
const root = fileURLToPath(new URL('..', import.meta.url));

interface Step {
  readonly name: string;
  readonly args: readonly string[];
  readonly quick: boolean;
}

const steps: Step[] = [
  { name: 'wire', args: ['bench/wire.ts', ...(quick ? ['--quick'] : [])], quick: true },
  { name: 'media-dsp', args: ['bench/media-dsp.ts'], quick: false },
  { name: 'media', args: ['bench/media.ts'], quick: false },
  { name: 'memory', args: ['bench/memory.ts', ...(quick ? ['--minutes', '10'] : [])], quick: false },
  { name: 'engine', args: ['bench/engine.ts', ...(quick ? ['--quick', '--seconds', '2', '--streams', '1,50'] : [])], quick: true },
  { name: 'compare', args: ['bench/compare.ts', ...(quick ? ['--quick', '--seconds', '10'] : [])], quick: false },
  // Quick: one and ten streams, short windows, 100 passthrough streams; full: 1-60 streams, GStreamer, 1000 streams.
  { name: 'scale', args: ['bench/scale.ts', ...(quick ? ['--quick', '--streams', '1,10', '--window', '5', '--warmup', '2', '--passthrough', '100', '--out', '/tmp'] : [])], quick: true },
];

const started = Date.now();
const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  console.error('bench: npm run build failed');
  process.exit(1);
}
const failed: string[] = [];
for (const step of steps) {
  if (quick && !step.quick) continue;
  console.log(`\n=== ${step.name} (${step.args.join(' ')})`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', ...step.args], { cwd: root, stdio: 'inherit' });
  console.log(`=== ${step.name}: ${r.status === 0 ? 'done' : `FAILED (exit ${r.status ?? r.signal})`} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (r.status !== 0) failed.push(step.name);
}
console.log(`\nbench: ${quick ? 'quick' : 'full'} run finished in ${((Date.now() - started) / 1000).toFixed(1)} s${failed.length ? `; failed: ${failed.join(', ')}` : ''}`);
process.exit(failed.length ? 1 : 0);
