// Keys for many rows at once, written as ASCII bytes into one buffer: each row's text (Python's
// str of every feature, or the fixed-point integers) goes straight into a scratch byte array and is
// hashed there with the in-place SHA-256, with no string built per value or per row. The bytes are
// exactly what pythonText/fixedPointInteger + sha256Hex produce (checked by property tests); values
// outside the fast paths are formatted by those functions and copied in.
import { MlTasksError } from '../errors.js';
import { fixedPointInteger } from './fixed-point.js';
import type { KeyScheme } from './key-scheme-config.js';
import { pythonFloatString } from './python-float.js';
import { ShortSha256 } from './short-sha256.js';

const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const SPACE = 32;
const POWERS = [1, 10, 100, 1000];
// Fast path bound: |value| × 1000 stays an exact integer far below 2^53.
const FAST_LIMIT = 1e12;

/** Writes a non-negative integer below 2^53 in decimal at out[at…]; returns the end. */
function writeInteger(value: number, out: Uint8Array, at: number): number {
  if (value < 10) {
    out[at] = ZERO + value;
    return at + 1;
  }
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let i = at + digits - 1; i >= at; i--) {
    const next = Math.floor(rest / 10);
    out[i] = ZERO + (rest - next * 10);
    rest = next;
  }
  return at + digits;
}

function writeAscii(text: string, out: Uint8Array, at: number): number {
  for (let i = 0; i < text.length; i++) out[at + i] = text.charCodeAt(i);
  return at + text.length;
}

/**
 * Writes Python's str(value) at out[at…]; returns the end. Values with at most three decimals
 * (every value of a one-decimal CSV) take a fast path: the smallest k ≤ 3 with
 * round(|v|·10^k) / 10^k === |v| gives exactly the shortest round-trip digits that Python (and
 * JavaScript) print. Anything else goes through pythonFloatString.
 */
export function writePythonFloat(value: number, out: Uint8Array, at: number): number {
  const negative = value < 0 || Object.is(value, -0);
  const magnitude = negative ? -value : value;
  if (magnitude < FAST_LIMIT && (magnitude >= 1e-3 || magnitude === 0)) {
    for (let k = 0; k <= 3; k++) {
      const power = POWERS[k] as number;
      const scaled = Math.round(magnitude * power);
      if (scaled / power !== magnitude) continue;
      if (negative) out[at++] = MINUS;
      const integer = Math.floor(scaled / power);
      at = writeInteger(integer, out, at);
      out[at++] = DOT;
      if (k === 0) {
        out[at++] = ZERO;
        return at;
      }
      let fraction = scaled - integer * power;
      for (let digit = k - 1; digit >= 0; digit--) {
        const place = POWERS[digit] as number;
        const d = Math.floor(fraction / place);
        out[at++] = ZERO + d;
        fraction -= d * place;
      }
      return at;
    }
  }
  return writeAscii(pythonFloatString(value), out, at);
}

/** Keys of a hashed scheme for runs of rows, as fixed-width ASCII slots: `prefix` then 64 hex characters. */
export class RowKeyEncoder {
  readonly scheme: KeyScheme;
  readonly prefix: string;
  /** Bytes per key slot: the prefix plus 64 hex characters. */
  readonly stride: number;
  private readonly sha = new ShortSha256();
  private text = new Uint8Array(256);
  private readonly prefixBytes: Uint8Array;

  constructor(scheme: KeyScheme, options: { prefix?: string } = {}) {
    if (scheme.scheme === 'entity-id') {
      throw new MlTasksError('KEY_SCHEME', 'entity-id keys are not hashed; use keysForRows for them');
    }
    this.scheme = scheme;
    this.prefix = options.prefix ?? '';
    this.prefixBytes = Buffer.from(this.prefix, 'utf8');
    this.stride = this.prefixBytes.length + 64;
  }

  /**
   * Writes the keys of rows [start, end) of `data` (row-major, `width` values per row, the features
   * at `offset`…`offset + length`) into `out` at slot i = row - start. Returns `out`, which must
   * hold (end - start) × stride bytes; a fresh Buffer is allocated when it is not given.
   */
  encode(
    data: ArrayLike<number>,
    width: number,
    start: number,
    end: number,
    features: { offset: number; length: number } = { offset: 0, length: width },
    out: Buffer = Buffer.allocUnsafe((end - start) * this.stride),
  ): Buffer {
    const stride = this.stride;
    const prefixLength = this.prefixBytes.length;
    for (let row = start; row < end; row++) {
      const slot = (row - start) * stride;
      if (prefixLength > 0) out.set(this.prefixBytes, slot);
      this.encodeRowInto(data, width, row, features, out, slot + prefixLength);
    }
    return out;
  }

  /** Writes the 64 hex characters of one row's key (without the prefix) at out[at…]. */
  encodeRowInto(
    data: ArrayLike<number>,
    width: number,
    row: number,
    features: { offset: number; length: number },
    out: Uint8Array,
    at: number,
  ): void {
    const base = row * width + features.offset;
    let text = this.text;
    // Each value takes at most 24 characters plus a space; grow the scratch if a row needs it.
    if (features.length * 25 > text.length) {
      text = new Uint8Array(features.length * 25);
      this.text = text;
    }
    const decimals = this.scheme.scheme === 'fixed-point' ? this.scheme.decimals : -1;
    let length = 0;
    for (let f = 0; f < features.length; f++) {
      if (f > 0) text[length++] = SPACE;
      const value = data[base + f] as number;
      length =
        decimals < 0
          ? writePythonFloat(value, text, length)
          : writeAscii(fixedPointInteger(value, decimals), text, length);
    }
    this.sha.hashHexInto(text, 0, length, out, at);
  }

  /** The keys of rows [start, end) as strings (prefix included). */
  strings(
    data: ArrayLike<number>,
    width: number,
    start: number,
    end: number,
    features?: { offset: number; length: number },
  ): string[] {
    const packed = this.encode(data, width, start, end, features);
    const keys = new Array<string>(end - start);
    for (let i = 0; i < keys.length; i++) keys[i] = packed.toString('latin1', i * this.stride, (i + 1) * this.stride);
    return keys;
  }
}
