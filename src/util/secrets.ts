/**
 * Keeping secrets (bot tokens, access keys) out of what leaves the process: messages, stacks, `cause` chains and
 * parsed answers. Every client that holds a credential scrubs with these before it throws or returns.
 */

/** Placeholder written wherever a secret was found. */
export const REDACTED = '[REDACTED]';

/**
 * Replaces every occurrence of each secret in `text` with `[REDACTED]`.
 *
 * @param text - any text (message, stack, URL).
 * @param secrets - the strings to hide; empty strings are ignored.
 * @returns the scrubbed text.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length > 0) out = out.split(secret).join(REDACTED);
  }
  return out;
}

/**
 * Copies an error (and its `cause` chain) with every secret scrubbed from names, messages, stacks and string
 * fields.
 *
 * @remarks Why a copy: fetch implementations may put the request URL or headers into their errors, and an error is
 * shared state we must not mutate. Non-error values become an `Error` describing their type only.
 * @param err - the original error.
 * @param secrets - the strings to hide.
 * @param depth - recursion guard for cyclic cause chains.
 * @returns a fresh `Error` safe to log or serialize.
 */
export function scrubError(err: unknown, secrets: readonly string[], depth = 0): Error {
  if (!(err instanceof Error)) {
    return new Error(`non-error value thrown (${typeof err})`);
  }
  const copy = new Error(redact(err.message, secrets));
  copy.name = redact(err.name, secrets);
  if (err.stack !== undefined) copy.stack = redact(err.stack, secrets);
  const source = err as unknown as Record<string, unknown>;
  const target = copy as unknown as Record<string, unknown>;
  // Keep the diagnostic fields Node and undici put on errors (code, errno, syscall, address, port).
  for (const key of ['code', 'errno', 'syscall', 'address', 'port']) {
    const value = source[key];
    if (typeof value === 'string') target[key] = redact(value, secrets);
    else if (typeof value === 'number') target[key] = value;
  }
  if (err.cause !== undefined && depth < 8) {
    copy.cause = scrubError(err.cause, secrets, depth + 1);
  }
  return copy;
}

/**
 * Copies a parsed JSON value with every secret scrubbed from its strings (keys included): the far side's answer may
 * echo a credential into any field.
 */
export function redactDeep(v: unknown, secrets: readonly string[], depth = 0): unknown {
  if (typeof v === 'string') return redact(v, secrets);
  if (depth > 64 || typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) return v.map((x) => redactDeep(x, secrets, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[redact(k, secrets)] = redactDeep(x, secrets, depth + 1);
  return out;
}
