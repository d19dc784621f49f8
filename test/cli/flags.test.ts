/**
 * play's flags, read on their own: one table for every command, a usage line for each flag, checked values in the
 * order their errors are reported, and one place that hands each value on (player, tracks, outputs).
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OPTIONS, USAGE, parseFlags } from '../../src/cli/flags.js';
import { playerOptions, readPlayFlags, trackOptions } from '../../src/cli/play/flags.js';
import { codeOf } from '../helpers.js';

const read = (...args: string[]) => readPlayFlags(parseFlags(args).values);

describe('play flags', () => {
  it('defaults: volume 1, loop off, passthrough auto, the guard on, nothing written', () => {
    const s = read();
    expect(s).toMatchObject({ volume: 1, loop: 'off', passthrough: 'auto', guard: {}, outputs: {} });
    expect(s.ssrc).toBeUndefined();
    expect(playerOptions(s)).toEqual({ volume: 1, loop: 'off' });
    expect(trackOptions(s)).toEqual({ passthrough: 'auto' });
  });

  it('every value checked, and handed on to the player, the tracks and the outputs', () => {
    const s = read('--ssrc', '5', '--pt', '100', '--bitrate', '64000', '--volume', '0.5', '--seek', '3', '--loop', 'track', '--passthrough', 'never', '--no-rtcp-mux', '--no-guard', '--pcap', 'a.pcap', '--stats-json', 's.json');
    expect(s).toMatchObject({ ssrc: 5, pt: 100, bitrate: 64000, volume: 0.5, seek: 3, loop: 'track', passthrough: 'never', rtcpMux: false, guard: { enabled: false } });
    expect(s.outputs).toEqual({ 'stats-json': 's.json', pcap: 'a.pcap' });
    expect(Object.keys(s.outputs)).toEqual(['stats-json', 'pcap']); // checked in this order before anything plays
    expect(playerOptions(s)).toEqual({ volume: 0.5, loop: 'track' });
    expect(trackOptions(s)).toEqual({ passthrough: 'never' });
  });

  it('mixing: --normalize (bare = track), --normalize-target, --crossfade, --filters JSON or @file, --overlay FILE@S, --duck', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-flags-'));
    const file = join(dir, 'f.json');
    writeFileSync(file, '{"lowPass":{"smoothing":20}}');
    const s = read('--normalize', '--normalize-target', '-14', '--crossfade', '3000', '--filters', `@${file}`, '--overlay', 'a.wav@2.5', '--overlay', 'b.ogg', '--duck', '-9', 'x.mp3');
    expect(s).toMatchObject({ normalize: 'track', normalizeTargetLufs: -14, crossfadeMs: 3000, duckDb: -9 });
    expect(s.overlays).toEqual([{ path: 'a.wav', atSec: 2.5 }, { path: 'b.ogg', atSec: 0 }]);
    expect(playerOptions(s)).toEqual({ volume: 1, loop: 'off', normalize: 'track', normalizeTargetLufs: -14, crossfadeMs: 3000, filters: { lowPass: { smoothing: 20 } } });
    expect(read('--normalize', 'off').normalize).toBe('off');
    expect(read('--filters', '{"timescale":{"speed":1.5}}').filters).toEqual({ timescale: { speed: 1.5, pitch: 1, rate: 1 } });
  });

  it.each([
    [['--normalize', 'loud'], /--normalize must be off or track/],
    [['--crossfade', '-1'], /--crossfade must be a number 0-30000/],
    [['--filters', '{bad'], /--filters is not JSON/],
    [['--filters', '{"equalizer":[{"band":15,"gain":0}]}'], /--filters: .*band/],
    [['--filters', '@/nonexistent/f.json'], /cannot read/],
    [['--overlay', '@3'], /--overlay must be FILE or FILE@SECONDS/],
    [['--duck', '3'], /--duck must be a number -96-0/],
    [['--ssrc', '-5'], /--ssrc must be an integer 0-4294967295/],
    [['--volume', '17'], /--volume must be a number 0-16/],
    [['--loop', 'sometimes'], /--loop must be off, track or queue/],
    [['--passthrough', 'maybe'], /--passthrough must be auto, never or always/],
    [['--rtcp-mux', '--no-rtcp-mux'], /together/],
    [['--bogus'], /Unknown option '--bogus'/],
  ])('%j is a USAGE error', (args, message) => {
    let err: unknown;
    try {
      read(...args);
    } catch (e) {
      err = e;
    }
    expect(codeOf(() => { throw err; })).toBe('USAGE');
    expect((err as Error).message).toMatch(message);
  });

  it('every flag of the table has its line in the usage text', () => {
    const missing = Object.keys(OPTIONS).filter((name) => !new RegExp(`--${name}\\b`).test(USAGE));
    expect(missing).toEqual([]);
  });
});
