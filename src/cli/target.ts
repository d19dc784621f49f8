/**
 * Parsing of `--to rtp://host:port[?rtcpport=N]`, the URL form ffmpeg uses for its RTP muxer, and the CNAME a push to
 * it uses.
 */
import { createHash } from 'node:crypto';
import { KookRtpError } from '../errors.js';

/** Where a plain-RTP push goes. */
export interface RtpUrlTarget {
  readonly host: string;
  readonly port: number;
  /** The RTCP port: `rtcpport` when given, else `port` when muxed, else `port + 1` (RFC 3550 §11, ffmpeg's rule). */
  readonly rtcpPort: number;
  readonly rtcpMux: boolean;
}

/**
 * Parses an `rtp://` URL. IPv6 hosts are written in brackets (`rtp://[::1]:5004`).
 * @param url - the URL
 * @param rtcpMux - RTCP on the RTP port; a `rtcpport` in the URL that differs from the port turns it off
 * @throws {@link KookRtpError} `USAGE` for anything that is not `rtp://host:port`
 */
export function parseRtpUrl(url: string, rtcpMux?: boolean): RtpUrlTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new KookRtpError('USAGE', `--to expects rtp://host:port[?rtcpport=N], found "${url}"`);
  }
  if (u.protocol !== 'rtp:') throw new KookRtpError('USAGE', `--to expects an rtp:// URL, found "${u.protocol}"`);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port);
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new KookRtpError('USAGE', `--to needs a host and a port 1-65535, found "${url}"`);
  }
  const rtcpParam = u.searchParams.get('rtcpport');
  let rtcpPort: number;
  let mux = rtcpMux ?? false;
  if (rtcpParam !== null) {
    rtcpPort = Number(rtcpParam);
    if (!Number.isInteger(rtcpPort) || rtcpPort < 1 || rtcpPort > 65535) {
      throw new KookRtpError('USAGE', `rtcpport must be 1-65535, found "${rtcpParam}"`);
    }
    if (rtcpPort !== port) mux = false;
    else mux = true;
  } else {
    rtcpPort = mux ? port : port + 1;
    if (rtcpPort > 65535) throw new KookRtpError('USAGE', `port ${port} leaves no room for RTCP on port + 1: give ?rtcpport=N or --rtcp-mux`);
  }
  return { host, port, rtcpPort, rtcpMux: mux };
}

/**
 * The CNAME of a `--to` push: `kook-rtp-` and 12 hex digits of a hash of the target and the SSRC. `play --to` and
 * `sdp --to` with the same options compute the same one (RFC 3550 §6.5.1 asks only that it be unique in the session:
 * two pushes with one SSRC to one receiver would collide on the SSRC first).
 */
export function defaultCname(t: { host: string; port: number }, ssrc: number): string {
  return `kook-rtp-${createHash('sha256').update(`${t.host}|${t.port}|${ssrc >>> 0}`).digest('hex').slice(0, 12)}`;
}
