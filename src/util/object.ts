/** Checks of values parsed from the far side's JSON. */

/**
 * True when `v` is an object that is not an array or null: what `JSON.parse` gives for `{...}`.
 * @param v - any value.
 */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
