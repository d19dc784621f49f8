import { describe, expect, it } from 'vitest';
import { buildOpusSdp } from '../../src/wire/sdp.js';

describe('buildOpusSdp', () => {
  it('describes a split-RTCP Opus stream', () => {
    const sdp = buildOpusSdp({ address: '127.0.0.1', port: 5004, payloadType: 111, ssrc: 1111, cname: 'bot' });
    expect(sdp.split('\r\n')).toEqual([
      'v=0',
      'o=- 0 0 IN IP4 127.0.0.1',
      's=kook-rtp',
      'c=IN IP4 127.0.0.1',
      't=0 0',
      'm=audio 5004 RTP/AVP 111',
      'a=rtpmap:111 opus/48000/2',
      'a=fmtp:111 stereo=1;sprop-stereo=1',
      'a=rtcp:5005',
      'a=ssrc:1111 cname:bot',
      'a=recvonly',
      '',
    ]);
  });

  it('uses IP6 and rtcp-mux and announces the bitrate', () => {
    const sdp = buildOpusSdp({ address: '::1', port: 6000, payloadType: 100, rtcpMux: true, bitrate: 48000 });
    expect(sdp).toContain('c=IN IP6 ::1\r\n');
    expect(sdp).toContain('b=AS:48\r\n');
    expect(sdp).toContain('a=fmtp:100 stereo=1;sprop-stereo=1;maxaveragebitrate=48000\r\n');
    expect(sdp).toContain('a=rtcp-mux\r\n');
    expect(sdp).not.toContain('a=rtcp:');
  });

  it.each([
    { name: 'port 0', opts: { address: '127.0.0.1', port: 0, payloadType: 111 } },
    { name: 'pt 128', opts: { address: '127.0.0.1', port: 5004, payloadType: 128 } },
    { name: 'empty address', opts: { address: '', port: 5004, payloadType: 111 } },
    { name: 'rtcp port out of range', opts: { address: '127.0.0.1', port: 65535, payloadType: 111 } },
  ])('rejects $name with INVALID_ARGUMENT', ({ opts }) => {
    expect(() => buildOpusSdp(opts)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
