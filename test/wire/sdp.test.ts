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
    // Line injection: a CR or LF would start a new SDP line of the caller's choosing.
    { name: 'LF in address', opts: { address: '127.0.0.1\na=sendonly', port: 5004, payloadType: 111 } },
    { name: 'CR in address', opts: { address: '127.0.0.1\r', port: 5004, payloadType: 111 } },
    { name: 'space in address', opts: { address: '127.0.0.1 IN IP4 10.0.0.1', port: 5004, payloadType: 111 } },
    { name: 'CRLF in sessionName', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, sessionName: 'x\r\nm=video 9 RTP/AVP 96' } },
    { name: 'LF in cname', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, ssrc: 1, cname: 'bot\na=inactive' } },
    { name: 'NUL in sessionName', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, sessionName: 'a\u0000b' } },
    { name: 'empty sessionName', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, sessionName: '' } },
    { name: 'empty cname', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, ssrc: 1, cname: '' } },
    { name: 'NaN bitrate', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, bitrate: Number.NaN } },
    { name: 'Infinity bitrate', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, bitrate: Number.POSITIVE_INFINITY } },
    { name: 'zero bitrate', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, bitrate: 0 } },
    { name: 'negative bitrate', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, bitrate: -48000 } },
    { name: 'SSRC 2^32', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, ssrc: 2 ** 32 } },
    { name: 'fractional SSRC', opts: { address: '127.0.0.1', port: 5004, payloadType: 111, ssrc: 1.5 } },
  ])('rejects $name with INVALID_ARGUMENT', ({ opts }) => {
    expect(() => buildOpusSdp(opts)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('keeps a session name with spaces and UTF-8 (RFC 8866 §5.3 allows any byte but CR, LF and NUL)', () => {
    const sdp = buildOpusSdp({ address: '127.0.0.1', port: 5004, payloadType: 111, sessionName: 'Bot 语音 room' });
    expect(sdp).toContain('s=Bot 语音 room\r\n');
  });
});
