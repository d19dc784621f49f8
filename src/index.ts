/**
 * kook-rtp: the one public entry. Named exports only.
 */
export { KookRtpError, isKookRtpError } from './errors.js';
export type { ErrorCode } from './errors.js';
