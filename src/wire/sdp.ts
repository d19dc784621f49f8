/**
 * SDP (RFC 8866) session description for an Opus RTP stream (RFC 7587 §7), so that a receiver such as ffmpeg, VLC or
 * GStreamer can open what kook-rtp sends. Pure text in, text out.
 *
 * @see RFC 8866 (SDP), RFC 7587 §7 (Opus media type), RFC 3605 (a=rtcp), RFC 5761 §5.1.1 (a=rtcp-mux), RFC 5576 (a=ssrc)
 */
import { KookRtpError } from '../errors.js';

/** What an SDP for one Opus RTP stream describes. */
export interface OpusSdpOptions {
  /** Address the receiver listens on (IPv4 or IPv6 literal). */
  readonly address: string;
  /** RTP port the receiver listens on. */
  readonly port: number;
  /** RTCP port when not multiplexed; defaults to `port + 1` (RFC 3550 §11). Ignored with `rtcpMux`. */
  readonly rtcpPort?: number;
  /** RTCP multiplexed on the RTP port (RFC 5761). */
  readonly rtcpMux?: boolean;
  /** Dynamic payload type, 96-127 (KOOK uses 111). */
  readonly payloadType: number;
  /** SSRC of the stream, announced with `a=ssrc` when given. */
  readonly ssrc?: number;
  /** CNAME announced with the SSRC. */
  readonly cname?: string;
  /** Session name (`s=`). */
  readonly sessionName?: string;
  /** Target bitrate in bits/s, announced as `b=AS` (kbit/s) and `maxaveragebitrate`. */
  readonly bitrate?: number;
}

/**
 * Builds an SDP describing an Opus stream (48 kHz, 2 channels in the rtpmap as RFC 7587 requires).
 * @param options - where the receiver listens and what the stream carries
 * @returns SDP text with CRLF line endings
 * @throws KookRtpError `INVALID_ARGUMENT` for a port, payload type or SSRC out of range, an address that is not one
 *   token (an IP literal or host name), a session name or CNAME that is empty or holds CR, LF or NUL (each would
 *   start an SDP line of the caller's choosing), or a bitrate that is not a positive finite number
 */
export function buildOpusSdp(options: OpusSdpOptions): string {
  const { address, port, payloadType } = options;
  if (!address) throw new KookRtpError('INVALID_ARGUMENT', 'SDP needs a receiver address, found an empty string');
  if (typeof address !== 'string' || !ADDRESS.test(address)) {
    throw new KookRtpError('INVALID_ARGUMENT', `SDP address must be an IP literal or host name (letters, digits, . : - _ %), found ${JSON.stringify(address)}`);
  }
  checkText(options.sessionName, 'sessionName');
  checkText(options.cname, 'cname');
  if (options.bitrate !== undefined && !(Number.isFinite(options.bitrate) && options.bitrate > 0)) {
    throw new KookRtpError('INVALID_ARGUMENT', `bitrate must be a positive number of bits/s, found ${options.bitrate}`);
  }
  if (options.ssrc !== undefined && !(Number.isInteger(options.ssrc) && options.ssrc >= 0 && options.ssrc <= 0xffffffff)) {
    throw new KookRtpError('INVALID_ARGUMENT', `ssrc must be an integer in [0, 4294967295], found ${options.ssrc}`);
  }
  checkPort(port, 'port');
  if (!Number.isInteger(payloadType) || payloadType < 0 || payloadType > 127) {
    throw new KookRtpError('INVALID_ARGUMENT', `payload type must be 0-127, found ${payloadType}`);
  }
  const family = address.includes(':') ? 'IP6' : 'IP4';
  const lines = [
    'v=0',
    `o=- 0 0 IN ${family} ${address}`,
    `s=${options.sessionName ?? 'kook-rtp'}`,
    `c=IN ${family} ${address}`,
    't=0 0',
  ];
  if (options.bitrate !== undefined) lines.push(`b=AS:${Math.ceil(options.bitrate / 1000)}`);
  lines.push(`m=audio ${port} RTP/AVP ${payloadType}`);
  lines.push(`a=rtpmap:${payloadType} opus/48000/2`);
  const fmtp = ['stereo=1', 'sprop-stereo=1'];
  if (options.bitrate !== undefined) fmtp.push(`maxaveragebitrate=${Math.round(options.bitrate)}`);
  lines.push(`a=fmtp:${payloadType} ${fmtp.join(';')}`);
  if (options.rtcpMux) {
    lines.push('a=rtcp-mux');
  } else {
    const rtcpPort = options.rtcpPort ?? port + 1;
    checkPort(rtcpPort, 'rtcpPort');
    lines.push(`a=rtcp:${rtcpPort}`);
  }
  if (options.ssrc !== undefined) {
    lines.push(`a=ssrc:${options.ssrc >>> 0} cname:${options.cname ?? 'kook-rtp'}`);
  }
  lines.push('a=recvonly');
  return lines.join('\r\n') + '\r\n';
}

/** One SDP token: no whitespace or control character can end the line early. */
const ADDRESS = /^[A-Za-z0-9._:%-]+$/;

/** RFC 8866 §9 `text`: any byte but NUL, CR and LF; and not empty (`s=` and `cname:` must say something). */
function checkText(value: string | undefined, name: string): void {
  if (value === undefined) return;
  if (typeof value !== 'string' || value === '' || /[\r\n\0]/.test(value)) {
    throw new KookRtpError('INVALID_ARGUMENT', `${name} must be non-empty text without CR, LF or NUL, found ${JSON.stringify(value)}`);
  }
}

function checkPort(port: number, name: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new KookRtpError('INVALID_ARGUMENT', `${name} must be 1-65535, found ${port}`);
  }
}
