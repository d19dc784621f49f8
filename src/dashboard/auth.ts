/**
 * Access to the dashboard. On 127.0.0.1 without a token it is open to this machine only (and the Host header must
 * name the loopback, so a web page elsewhere cannot reach it through DNS rebinding). Anywhere else a token is
 * required: sent as `Authorization: Bearer TOKEN` (Prometheus' `authorization` setting, curl), or typed once into the
 * page's login form, which sets an HttpOnly cookie holding an HMAC of the token (never the token itself).
 *
 * Tokens are compared in constant time (SHA-256 digests of equal length through `timingSafeEqual`) and never appear
 * in a page, a log line, an error message or a metric.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { KookRtpError } from '../errors.js';

/** The shortest token accepted: a page reachable from a network must not fall to guessing. */
export const MIN_TOKEN_LENGTH = 16;
/** The cookie set by the login form. */
export const SESSION_COOKIE = 'kook_rtp_dashboard';
/** The only host that may be bound without a token. */
export const LOOPBACK_HOST = '127.0.0.1';

/** Checks requests against the token (if any). */
export interface DashboardAuth {
  /** Whether a token is required. */
  readonly required: boolean;
  /** True when the request carries the token (bearer) or the session cookie, or when no token is required. */
  check(req: IncomingMessage): boolean;
  /** True when `candidate` is the token (constant time). */
  matches(candidate: string): boolean;
  /** The cookie value that proves a successful login. */
  readonly cookieValue: string;
}

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** Constant-time string equality (the digests have the same length whatever the inputs). */
export function safeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}

/**
 * Validates the host/token pair and builds the checker.
 * @throws {@link KookRtpError} `TOKEN_REQUIRED` when binding anything but 127.0.0.1 without a token, or when the
 *   token is shorter than {@link MIN_TOKEN_LENGTH} characters.
 */
export function createAuth(host: string, token: string | undefined): DashboardAuth {
  if (token === undefined || token === '') {
    if (host !== LOOPBACK_HOST) {
      throw new KookRtpError(
        'TOKEN_REQUIRED',
        `the dashboard binds ${host}, which other machines may reach: give it an access token (token option, --dashboard-token or KOOK_RTP_DASHBOARD_TOKEN), or bind ${LOOPBACK_HOST}`,
      );
    }
    return { required: false, check: () => true, matches: () => false, cookieValue: '' };
  }
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new KookRtpError('TOKEN_REQUIRED', `the dashboard's access token must be at least ${MIN_TOKEN_LENGTH} characters, found ${token.length}`);
  }
  // A fresh salt per server: a cookie from an earlier run (or another dashboard with the same token) is not valid here.
  const cookieValue = createHmac('sha256', token).update(randomBytes(16)).digest('hex');
  const matches = (candidate: string): boolean => safeEqual(candidate, token);
  return {
    required: true,
    cookieValue,
    matches,
    check(req) {
      const h = req.headers.authorization;
      if (typeof h === 'string' && /^Bearer /i.test(h)) return matches(h.slice(7).trim());
      const c = cookieOf(req, SESSION_COOKIE);
      return c !== undefined && safeEqual(c, cookieValue);
    },
  };
}

/** A cookie's value from the request, if present. */
export function cookieOf(req: IncomingMessage, name: string): string | undefined {
  const header = req.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * Whether the Host header names the loopback (`127.0.0.1:PORT`, `localhost:PORT`, `[::1]:PORT`): a tokenless
 * dashboard answers only those, so a page elsewhere that rebinds its own name to 127.0.0.1 gets nothing.
 */
export function isLoopbackHostHeader(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  return host === `127.0.0.1:${port}` || host === `localhost:${port}` || host === `[::1]:${port}`;
}
