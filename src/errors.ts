/**
 * The library's one error base class and its stable codes.
 *
 * Callers (and tests) match on `code`, never on message text. Messages say what was expected, what was found,
 * and what to do. Secrets (tokens, access keys, private keys) never go into a message or a field.
 */

/** Every stable error code kook-rtp raises. Add new codes here, grouped by the layer that raises them. */
export type ErrorCode =
  // wire: RTP / RTCP / Opus / Ogg / FLV / pcap parsing
  | 'PACKET_TOO_SHORT'
  | 'INVALID_VERSION'
  | 'INVALID_PACKET'
  | 'INVALID_RTCP'
  | 'INVALID_OPUS_PACKET'
  | 'BUFFER_TOO_SMALL'
  | 'INVALID_ARGUMENT'
  // media: inputs, probing, decoding, encoding
  | 'INVALID_INPUT'
  | 'UNSUPPORTED_FORMAT'
  | 'DECODE_FAILED'
  | 'ENCODE_FAILED'
  | 'FETCH_FAILED'
  | 'FETCH_STALLED'
  // engine / transport
  | 'SOCKET_ERROR'
  | 'SEND_FAILED'
  | 'STREAM_CLOSED'
  | 'ABORTED'
  | 'PLAYER_STOPPED'
  | 'SENDER_BUSY'
  | 'WORKER_CRASHED'
  // KOOK API and services
  | 'KOOK_API'
  | 'HTTP_ERROR'
  | 'TIMEOUT'
  | 'RATE_LIMITED'
  | 'SERVICE_API'
  | 'SIGNATURE_INVALID'
  | 'VALIDATION_FAILED'
  | 'PERMISSION_DENIED'
  | 'DUPLICATE_STREAM'
  | 'RESPONSE_TOO_LARGE'
  // the dashboard: binding beyond 127.0.0.1 without an access token
  | 'TOKEN_REQUIRED'
  // files written (recordings, reports)
  | 'WRITE_FAILED'
  // CLI
  | 'USAGE';

/** Base class of every error kook-rtp throws or emits. */
export class KookRtpError extends Error {
  /** Stable machine-readable code: match on this, not on `message`. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KookRtpError';
    this.code = code;
  }
}

/** True when `err` is a {@link KookRtpError}, optionally with the given code. */
export function isKookRtpError(err: unknown, code?: ErrorCode): err is KookRtpError {
  return err instanceof KookRtpError && (code === undefined || err.code === code);
}
