/**
 * The house's arrows run one way (docs: style.md, "Layout"): every `import` and `import type` of src/ is read and
 * checked against the folders it may reach; the small shared helpers (secret scrubbing, the plain-object check,
 * request body reading, abortable sleep, the wall clock) are defined once, in src/util/.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

const files = sourceFiles(SRC).map((path) => ({ path, rel: relative(SRC, path).split('\\').join('/'), text: readFileSync(path, 'utf8') }));

/** The top folder under src/ (or the file name for src/*.ts) of every relative import of a file, type-only ones included. */
function importedFolders(file: { path: string; text: string }): string[] {
  const out: string[] = [];
  for (const m of file.text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g)) {
    const target = relative(SRC, resolve(dirname(file.path), m[1]!)).split('\\').join('/');
    out.push(target.includes('/') ? target.slice(0, target.indexOf('/')) : target);
  }
  // Dynamic imports count too (the CLI loads the emulator lazily).
  for (const m of file.text.matchAll(/import\('(\.[^']+)'\)/g)) {
    const target = relative(SRC, resolve(dirname(file.path), m[1]!)).split('\\').join('/');
    out.push(target.includes('/') ? target.slice(0, target.indexOf('/')) : target);
  }
  return out;
}

/** Folders each folder must not import: the ones above it. */
const FORBIDDEN: Record<string, readonly string[]> = {
  util: ['wire', 'media', 'engine', 'pacer', 'transport', 'kook', 'services', 'emulator', 'cli', 'dashboard', 'record', 'index.ts'],
  wire: ['media', 'engine', 'pacer', 'transport', 'kook', 'services', 'emulator', 'cli', 'dashboard', 'record', 'index.ts'],
  pacer: ['media', 'engine', 'kook', 'services', 'emulator', 'cli', 'dashboard', 'index.ts'],
  engine: ['kook', 'services', 'emulator', 'cli', 'dashboard', 'index.ts'],
  kook: ['services', 'emulator', 'cli', 'dashboard', 'index.ts'],
  services: ['kook', 'emulator', 'cli', 'dashboard', 'index.ts'],
};

describe('the arrows run one way', () => {
  it.each(Object.entries(FORBIDDEN))('src/%s/ imports nothing from the folders above it', (folder, forbidden) => {
    const wrong = files
      .filter((f) => f.rel.startsWith(`${folder}/`))
      .flatMap((f) => importedFolders(f).filter((t) => forbidden.includes(t)).map((t) => `${f.rel} -> ${t}/`));
    expect(wrong).toEqual([]);
  });

  it('src/util/ imports only node: modules, itself and the error class', () => {
    const wrong = files
      .filter((f) => f.rel.startsWith('util/'))
      .flatMap((f) => importedFolders(f).filter((t) => t !== 'util' && t !== 'errors.js').map((t) => `${f.rel} -> ${t}`));
    expect(wrong).toEqual([]);
  });
});

describe('small helpers live once, in src/util/', () => {
  const elsewhere = (f: { rel: string }): boolean => !f.rel.startsWith('util/');
  it.each([
    ['secret scrubbing', /function (redact|redactDeep|scrubError)\s*\(/],
    ['the plain-object check', /typeof (\w+) === 'object' && \1 !== null && !Array\.isArray\(\1\)/],
    ['request body reading', /function readBody\s*\(/],
    ['abortable sleep', /function sleep\s*\(|new Promise[^\n]*setTimeout\(\s*r(esolve)?\s*,/],
    ['the wall clock', /interface \w*Clock\s*\{[^}]*now\(\): number;[^}]*setTimeout/s],
  ])('%s', (_what, pattern) => {
    expect(files.filter((f) => elsewhere(f) && pattern.test(f.text)).map((f) => f.rel)).toEqual([]);
  });
});
