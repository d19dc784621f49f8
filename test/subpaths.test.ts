/**
 * The package's entries, one per audience: `kook-rtp` for bots (session, player, sender, errors, configuration),
 * `kook-rtp/wire`, `/media`, `/services`, `/emulator` for the rest, each entry file the one list of its folder.
 * Checked three ways: the source entries, the README's imports, and the built package resolved by a consumer
 * project through package.json's exports map.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as main from '../src/index.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; import: string } | string> };

/** Each entry: how to load its source, and names it documents. */
const ENTRIES = {
  'kook-rtp': {
    load: () => import('../src/index.js'),
    has: ['createVoiceSession', 'VoiceSession', 'createKookClient', 'createPlayer', 'Player', 'createRtpSender', 'RtpSender', 'KookApiError', 'KookHttpError', 'KookRateLimitError', 'configureMediaPool', 'configurePacerThread', 'opusBackendInfo', 'FakeClock', 'openUdpTransport', 'createPcapRecorder', 'createOggRecorder', 'createDashboard'],
  },
  'kook-rtp/wire': { load: () => import('../src/wire/index.js'), has: ['encodeRtpPacket', 'decodeCompound', 'buildOpusSdp', 'decodePcap', 'OggOpusWriter'] },
  'kook-rtp/media': { load: () => import('../src/media/index.js'), has: ['openTrack', 'probe', 'chooseMode', 'createOpusEncoder', 'Resampler', 'PcmFramer', 'FilterChain', 'LoudnessMeter', 'DuckingMixer'] },
  'kook-rtp/services': { load: () => import('../src/services/index.js'), has: ['createShumeiClient', 'createTupuClient', 'createAnyRtcClient', 'createCallbackServer', 'moderatePlayer', 'PlayerModeration', 'ServiceError'] },
  'kook-rtp/emulator': { load: () => import('../src/emulator/index.js'), has: ['startKookEmulator', 'createShumeiEmulator', 'createTupuEmulator', 'createAnyRtcEmulator'] },
} as const;
type EntryName = keyof typeof ENTRIES;

/** Names the bots' entry must not carry: emulators, service clients, and the building blocks of the other entries. */
const NOT_IN_MAIN = ['startKookEmulator', 'createShumeiEmulator', 'createTupuEmulator', 'createAnyRtcEmulator', 'createShumeiClient', 'moderatePlayer', 'createCallbackServer', 'encodeRtpPacket', 'decodeCompound', 'openTrack', 'probe', 'Resampler', 'PacedStream', 'RtcpSession', 'BitrateGuard', 'TokenBucket', 'parseJoin'];

describe('the entries, from source', () => {
  it.each(Object.keys(ENTRIES).filter((n) => n !== 'kook-rtp'))('%s: package.json maps it to the built entry of its source folder', (name) => {
    const sub = name.slice('kook-rtp/'.length);
    expect(pkg.exports[`./${sub}`]).toEqual({ types: `./dist/${sub}/index.d.ts`, import: `./dist/${sub}/index.js` });
    expect(existsSync(join(ROOT, `src/${sub}/index.ts`))).toBe(true);
  });

  it.each(Object.entries(ENTRIES))('%s exports its documented names and the error class', async (_name, { load, has }) => {
    const entry = (await load()) as Record<string, unknown>;
    for (const n of [...has, 'KookRtpError', 'isKookRtpError']) expect(entry[n], n).toBeDefined();
  });

  it('kook-rtp is for bots: no emulators, no service clients, no wire or media building blocks, no pacing internals', () => {
    const names = Object.keys(main);
    expect(names.filter((n) => NOT_IN_MAIN.includes(n))).toEqual([]);
    expect(names.length).toBeLessThan(40);
  });

  it('each subpath entry is the one list of its names: kook-rtp repeats none but the error class and opusBackendInfo', async () => {
    const shared = new Set(['KookRtpError', 'isKookRtpError', 'opusBackendInfo']);
    for (const [name, { load }] of Object.entries(ENTRIES)) {
      if (name === 'kook-rtp') continue;
      const sub = Object.keys(await load());
      expect(sub.filter((n) => n in main && !shared.has(n)), name).toEqual([]);
    }
  });
});

describe("the README's imports", () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const imports = [...readme.matchAll(/import \{([^}]+)\} from '(kook-rtp(?:\/\w+)?)'/g)].map((m) => ({
    entry: m[2] as EntryName,
    names: m[1]!.split(',').map((n) => n.trim().replace(/^type\s+/, '')).filter(Boolean),
  }));

  it('finds them', () => {
    expect(imports.length).toBeGreaterThan(8);
    expect(new Set(imports.map((i) => i.entry))).toEqual(new Set(Object.keys(ENTRIES)));
  });

  it('every name a README example imports is exported by the entry it names', async () => {
    const missing: string[] = [];
    for (const { entry, names } of imports) {
      const mod = (await ENTRIES[entry].load()) as Record<string, unknown>;
      for (const n of names) if (!(n in mod)) missing.push(`${n} from '${entry}'`);
    }
    expect(missing).toEqual([]);
  });
});

describe('the built package, resolved through its exports map by a consumer project', () => {
  it('kook-rtp and each subpath load and export their documented names; kook-rtp has no emulator', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kook-rtp-exports-'));
    try {
      checkBuiltPackage(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/** Builds the package into `dir`/node_modules/kook-rtp, imports every entry from a project in `dir`, checks the names. */
function checkBuiltPackage(dir: string): void {
  // The package as npm would install it: package.json, the built dist/, and (linked) its dependencies.
  const pkgDir = join(dir, 'node_modules', 'kook-rtp');
  mkdirSync(pkgDir, { recursive: true });
  cpSync(join(ROOT, 'package.json'), join(pkgDir, 'package.json'));
  execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', join(pkgDir, 'dist')], { stdio: 'pipe' });
  symlinkSync(join(ROOT, 'node_modules'), join(pkgDir, 'node_modules'), 'dir');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'a-bot', type: 'module', private: true }));
  const script = `
    const out = {};
    for (const spec of ${JSON.stringify(Object.keys(ENTRIES))}) out[spec] = Object.keys(await import(spec));
    let deep = 'refused';
    try { await import('kook-rtp/dist/emulator/index.js'); deep = 'loaded'; } catch (e) { deep = e.code; }
    console.log(JSON.stringify({ out, deep }));`;
  writeFileSync(join(dir, 'check.mjs'), script);
  const { out, deep } = JSON.parse(execFileSync(process.execPath, ['check.mjs'], { cwd: dir, encoding: 'utf8' })) as { out: Record<EntryName, string[]>; deep: string };
  for (const [spec, { has }] of Object.entries(ENTRIES)) {
    for (const n of [...has, 'KookRtpError']) expect(out[spec as EntryName], `${n} from ${spec}`).toContain(n);
  }
  expect(out['kook-rtp'].filter((n) => NOT_IN_MAIN.includes(n))).toEqual([]);
  // Only the mapped entries are reachable: a deep import of a file is refused by the exports map.
  expect(deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
}
