/** The fuzz runner's command line: exit status and the seed it reports (the cases themselves: test/fuzz). */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'bench/fuzz.ts', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });

describe('npm run fuzz', () => {
  it('runs N cases of one seed and exits 0 when each ended in success or a KookRtpError', () => {
    const r = run(['--seed', '7', '--cases', '60', '--only', 'rtcp', '--quiet']);
    expect(r.stdout).toContain('fuzz: seed 7, 60 case(s)');
    expect(r.stdout).toContain('all 60 case(s) ended in success or a KookRtpError');
    expect(r.status).toBe(0);
  }, 60_000);

  it('exits 2 on a usage error', () => {
    const r = run(['--cases', 'many']);
    expect(r.stderr).toContain('--cases needs a non-negative integer');
    expect(r.status).toBe(2);
  }, 60_000);
});
