import { createSocket } from 'node:dgram';
import { describe, expect, it } from 'vitest';
import { defaultCname } from '../../src/cli/main.js';
import { decodeCompound } from '../../src/wire/rtcp/compound.js';
import { SDES_CNAME } from '../../src/wire/rtcp/sdes.js';
import { runCliInProcess } from '../helpers.js';

const F = (name: string): string => new URL(`../../fixtures/media/${name}`, import.meta.url).pathname;

describe('the SDP names the CNAME the stream sends', () => {
  it('sdp --to and play --to with the same options: a=ssrc cname equals the RTCP SDES CNAME', async () => {
    const rtp = createSocket('udp4');
    const rtcp = createSocket('udp4');
    const cnames = new Set<string>();
    rtp.on('message', () => {});
    rtcp.on('message', (m) => {
      try {
        for (const p of decodeCompound(m)) {
          if (p.type !== 'sdes') continue;
          for (const c of p.chunks) for (const i of c.items) if (i.type === SDES_CNAME) cnames.add(i.text);
        }
      } catch {
        // not RTCP
      }
    });
    await new Promise<void>((r) => rtp.bind(0, '127.0.0.1', r));
    await new Promise<void>((r) => rtcp.bind(0, '127.0.0.1', r));
    const url = `rtp://127.0.0.1:${rtp.address().port}?rtcpport=${rtcp.address().port}`;
    try {
      const sdp = await runCliInProcess(['sdp', '--to', url, '--ssrc', '4242']);
      expect(sdp.code).toBe(0);
      const cname = /a=ssrc:4242 cname:(\S+)\r\n/.exec(sdp.out)?.[1];
      expect(cname).toMatch(/^kook-rtp-[0-9a-f]{12}$/);
      const play = await runCliInProcess(['play', F('sine-opus-48k.ogg'), '--seek', '2.5', '--to', url, '--ssrc', '4242', '--quiet']);
      expect(play.code).toBe(0);
      await new Promise((r) => setTimeout(r, 100));
      expect([...cnames]).toEqual([cname]);
    } finally {
      rtp.close();
      rtcp.close();
    }
  });

  it('--cname overrides it on both', async () => {
    const sdp = await runCliInProcess(['sdp', '--to', 'rtp://127.0.0.1:5004', '--cname', 'studio-a']);
    expect(sdp.out).toContain('a=ssrc:1111 cname:studio-a\r\n');
  });

  it('differs by target and SSRC', () => {
    const a = defaultCname({ host: '127.0.0.1', port: 5004 }, 1111);
    expect(defaultCname({ host: '127.0.0.1', port: 5004 }, 1111)).toBe(a);
    expect(defaultCname({ host: '127.0.0.1', port: 5006 }, 1111)).not.toBe(a);
    expect(defaultCname({ host: '127.0.0.1', port: 5004 }, 1112)).not.toBe(a);
  });
});
