/**
 * Says why an HTTP request got no answer: the host and port it tried, the cause by its errno code (refused, DNS, TLS,
 * timeout, reset) and what to check. Pure: reads the error chain, performs no I/O.
 */

/** The codes of an error and its `cause` chain, outermost first. */
export function errorChainCodes(err: unknown): string[] {
  const codes: string[] = [];
  let cur: unknown = err;
  for (let i = 0; i < 8 && cur instanceof Error; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string') codes.push(code);
    cur = cur.cause;
  }
  return codes;
}

/** `host:port` of a URL, with the scheme's default port when none is written. */
export function hostPort(url: URL): string {
  const port = url.port !== '' ? url.port : url.protocol === 'https:' ? '443' : '80';
  return `${url.hostname}:${port}`;
}

const TLS_CODE = /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|EPROTO$)/;

/**
 * One sentence about a request that got no HTTP answer.
 * @param err - what fetch threw (undici wraps the system error in `cause`)
 * @param url - the URL requested (only its scheme, host and port are quoted)
 * @param baseOption - the option's name to suggest checking (`apiBase`, `--api-base`)
 * @returns e.g. `cannot connect to 127.0.0.1:9: connection refused (ECONNREFUSED): nothing listens there; check apiBase
 *   and that the server is running`
 */
export function describeNetworkFailure(err: unknown, url: URL, baseOption = 'apiBase'): string {
  const where = hostPort(url);
  const codes = errorChainCodes(err);
  const has = (...c: string[]): string | undefined => codes.find((x) => c.includes(x));
  let code: string | undefined;
  if ((code = has('ECONNREFUSED'))) {
    return `cannot connect to ${where}: connection refused (${code}): nothing listens there; check ${baseOption} and that the server is running`;
  }
  if ((code = has('ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_FAIL'))) {
    return `cannot connect to ${where}: DNS lookup of ${url.hostname} failed (${code}); check the host name in ${baseOption} and this machine's DNS`;
  }
  if ((code = codes.find((c) => TLS_CODE.test(c)))) {
    return `cannot connect to ${where}: TLS handshake failed (${code}); check that ${where} speaks HTTPS with a certificate this machine trusts, or use http:// for a plain-HTTP server`;
  }
  if ((code = has('UND_ERR_CONNECT_TIMEOUT', 'ETIMEDOUT'))) {
    return `cannot connect to ${where}: connection timed out (${code}); check the address in ${baseOption}, the network and any firewall`;
  }
  if ((code = has('EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'))) {
    return `cannot connect to ${where}: no route to the host (${code}); check the network and the address in ${baseOption}`;
  }
  if ((code = has('ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE'))) {
    return `the connection to ${where} was closed before an answer (${code}); the server may have crashed or is not an HTTP server: check ${baseOption}`;
  }
  return `no HTTP answer from ${where} (${codes[0] ?? 'no error code'}); check ${baseOption} and the network`;
}

/**
 * A hint for an HTTP 404 from a base URL whose path does not end in `/api/v3`, the path under which KOOK serves its API.
 * @returns the hint, or an empty string when the path looks right
 */
export function apiPathHint(apiBase: string, status: number): string {
  if (status !== 404) return '';
  let path: string;
  try {
    path = new URL(apiBase).pathname.replace(/\/+$/, '');
  } catch {
    return '';
  }
  if (/\/api\/v3$/.test(path)) return '';
  return `; the base URL's path is "${path === '' ? '/' : path}", but KOOK's API lives under /api/v3 (for example https://www.kookapp.cn/api/v3): add /api/v3 to apiBase`;
}
