import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as main from '../src/index.js';

const ROOT = new URL('../', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { exports: Record<string, { types: string; import: string } | string> };

const SUBPATHS = {
  wire: { load: () => import('../src/wire/index.js'), has: ['encodeRtpPacket', 'decodeCompound', 'buildOpusSdp', 'decodePcap'] },
  media: { load: () => import('../src/media/index.js'), has: ['openTrack', 'probe', 'createOpusEncoder', 'Resampler'] },
  services: { load: () => import('../src/services/index.js'), has: ['createShumeiClient', 'createTupuClient', 'createAnyRtcClient', 'createCallbackServer', 'moderatePlayer'] },
  emulator: { load: () => import('../src/emulator/index.js'), has: ['startKookEmulator', 'createShumeiEmulator', 'createTupuEmulator', 'createAnyRtcEmulator'] },
} as const;

describe('subpath exports: kook-rtp/wire, /media, /services, /emulator', () => {
  it.each(Object.entries(SUBPATHS))('kook-rtp/%s: package.json maps it to the built entry of its source folder', (name) => {
    expect(pkg.exports[`./${name}`]).toEqual({ types: `./dist/${name}/index.d.ts`, import: `./dist/${name}/index.js` });
    // tsconfig.build.json compiles src/ to dist/: the entry exists in source under the same path.
    expect(existsSync(new URL(`src/${name}/index.ts`, ROOT))).toBe(true);
  });

  it.each(Object.entries(SUBPATHS))('kook-rtp/%s exports its building blocks, the same objects as kook-rtp', async (_name, { load, has }) => {
    const sub = (await load()) as Record<string, unknown>;
    for (const n of [...has, 'KookRtpError', 'isKookRtpError']) expect(typeof sub[n], n).toBe('function');
    for (const [n, v] of Object.entries(sub)) expect((main as Record<string, unknown>)[n], n).toBe(v);
  });
});
