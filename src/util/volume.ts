/**
 * The one rule for a volume: a linear gain from 0 (silence) to {@link MAX_VOLUME} (+24 dB; the framer's limiter keeps
 * even that from clipping). The player, the PCM framer and the CLI all check it here.
 */
import { KookRtpError } from '../errors.js';

/** The largest accepted volume (linear gain 16 = +24 dB). */
export const MAX_VOLUME = 16;

/**
 * Checks a volume.
 * @param v - the linear gain
 * @returns `v`
 * @throws {@link KookRtpError} `INVALID_ARGUMENT` for anything but a finite number from 0 to {@link MAX_VOLUME}
 */
export function checkVolume(v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || v > MAX_VOLUME) {
    throw new KookRtpError('INVALID_ARGUMENT', `volume must be a linear gain from 0 to ${MAX_VOLUME} (1 leaves the audio as it is), got ${String(v)}`);
  }
  return v;
}
