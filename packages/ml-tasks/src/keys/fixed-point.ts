// The fixed-point form of one feature, the document's safer alternative to float text.
import { MlTasksError } from '../errors.js';

/** One feature at a fixed scale: the integer nearest to value × 10^decimals (halves away from zero); 'nan' when missing. */
export function fixedPointInteger(value: number, decimals: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  const scaled = value * 10 ** decimals;
  const rounded = scaled < 0 ? -Math.round(-scaled) : Math.round(scaled);
  if (!Number.isSafeInteger(rounded)) {
    throw new MlTasksError(
      'KEY_SCHEME',
      `fixed-point key: ${value} × 10^${decimals} does not fit a safe integer; lower 'decimals'`,
      { details: { value, decimals } },
    );
  }
  // `rounded` may be -0: String(-0) is '0', so 0.0 and -0.0 share a key (the point of fixed point).
  return String(rounded);
}
