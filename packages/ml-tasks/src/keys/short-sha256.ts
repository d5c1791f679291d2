// SHA-256 (FIPS 180-4) of short messages, in place, with no allocation: the row keys of a batch are
// hashes of ~15-byte texts, where a native hash call costs more in crossing into C++ and building
// strings than the hashing itself. Messages of up to 55 bytes take one compression; longer ones
// take as many blocks as they need. Checked against node:crypto in the tests.
//
// The compression function is generated once, fully unrolled, with the message schedule in 16
// local variables and the round constants inlined (about 2x faster in V8 than the loop); where
// code generation is disabled the loop below runs instead.

const K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

type Compress = (block: Uint8Array, state: Int32Array) => void;

// Builds the unrolled compression from the same formulas as ShortSha256.compressLoop.
function generateCompress(): Compress | undefined {
  const rotate = (x: string, n: number): string => `((${x} >>> ${n}) | (${x} << ${32 - n}))`;
  const lines: string[] = ["'use strict';"];
  for (let i = 0; i < 16; i++) {
    lines.push(`let w${i} = (b[${4 * i}] << 24) | (b[${4 * i + 1}] << 16) | (b[${4 * i + 2}] << 8) | b[${4 * i + 3}];`);
  }
  lines.push('let a = s[0], c1 = s[1], c2 = s[2], d = s[3], e = s[4], f = s[5], g = s[6], h = s[7], t1 = 0, t2 = 0;');
  for (let i = 0; i < 64; i++) {
    const w = `w${i % 16}`;
    if (i >= 16) {
      const x = `w${(i - 15) % 16}`;
      const y = `w${(i - 2) % 16}`;
      lines.push(
        `${w} = (${w} + (${rotate(x, 7)} ^ ${rotate(x, 18)} ^ (${x} >>> 3)) + w${(i - 7) % 16} + (${rotate(y, 17)} ^ ${rotate(y, 19)} ^ (${y} >>> 10))) | 0;`,
      );
    }
    lines.push(
      `t1 = (h + (${rotate('e', 6)} ^ ${rotate('e', 11)} ^ ${rotate('e', 25)}) + ((e & f) ^ (~e & g)) + ${K[i]} + ${w}) | 0;`,
      `t2 = ((${rotate('a', 2)} ^ ${rotate('a', 13)} ^ ${rotate('a', 22)}) + ((a & c1) ^ (a & c2) ^ (c1 & c2))) | 0;`,
      'h = g; g = f; f = e; e = (d + t1) | 0; d = c2; c2 = c1; c1 = a; a = (t1 + t2) | 0;',
    );
  }
  lines.push(
    's[0] = (s[0] + a) | 0; s[1] = (s[1] + c1) | 0; s[2] = (s[2] + c2) | 0; s[3] = (s[3] + d) | 0;',
    's[4] = (s[4] + e) | 0; s[5] = (s[5] + f) | 0; s[6] = (s[6] + g) | 0; s[7] = (s[7] + h) | 0;',
  );
  try {
    return new Function('b', 's', lines.join('\n')) as Compress;
  } catch {
    return undefined;
  }
}

const unrolledCompress = generateCompress();

/** Hashes bytes into lowercase hex; reusable, not reentrant (one scratch schedule per instance). */
export class ShortSha256 {
  private readonly w = new Int32Array(64);
  private readonly state = new Int32Array(8);
  private readonly block = new Uint8Array(64);
  private readonly unrolled: Compress | undefined;

  /** `unrolled: false` forces the loop (what runs where code generation is disabled). */
  constructor(options: { unrolled?: boolean } = {}) {
    this.unrolled = options.unrolled === false ? undefined : unrolledCompress;
  }

  /**
   * Writes the 64 lowercase hex characters of SHA-256(message[start, end)) as ASCII bytes at
   * out[outOffset…]. `message` is not modified.
   */
  hashHexInto(message: Uint8Array, start: number, end: number, out: Uint8Array, outOffset: number): void {
    const state = this.state;
    state[0] = 0x6a09e667;
    state[1] = 0xbb67ae85 | 0;
    state[2] = 0x3c6ef372;
    state[3] = 0xa54ff53a | 0;
    state[4] = 0x510e527f;
    state[5] = 0x9b05688c | 0;
    state[6] = 0x1f83d9ab;
    state[7] = 0x5be0cd19;
    const length = end - start;
    const block = this.block;
    let at = start;
    // Whole blocks straight from the message, then the padded tail (one or two blocks).
    while (end - at >= 64) {
      block.set(message.subarray(at, at + 64));
      this.compress(block);
      at += 64;
    }
    const tail = end - at;
    for (let i = 0; i < tail; i++) block[i] = message[at + i] as number;
    block[tail] = 0x80;
    if (tail >= 56) {
      for (let i = tail + 1; i < 64; i++) block[i] = 0;
      this.compress(block);
      for (let i = 0; i < 56; i++) block[i] = 0;
    } else {
      for (let i = tail + 1; i < 56; i++) block[i] = 0;
    }
    const bits = length * 8;
    block[56] = 0;
    block[57] = 0;
    block[58] = 0;
    block[59] = (bits / 0x100000000) & 0xff;
    block[60] = (bits >>> 24) & 0xff;
    block[61] = (bits >>> 16) & 0xff;
    block[62] = (bits >>> 8) & 0xff;
    block[63] = bits & 0xff;
    this.compress(block);
    // Nibble → ASCII without a table: n + '0', plus 39 more for 10..15 ('a'..'f').
    for (let i = 0; i < 8; i++) {
      const word = state[i] as number;
      for (let shift = 28, j = outOffset + i * 8; shift >= 0; shift -= 4, j++) {
        const nibble = (word >>> shift) & 15;
        out[j] = nibble + 48 + (((9 - nibble) >> 31) & 39);
      }
    }
  }

  private compress(block: Uint8Array): void {
    if (this.unrolled) this.unrolled(block, this.state);
    else this.compressLoop(block);
  }

  private compressLoop(block: Uint8Array): void {
    const w = this.w;
    const k = K;
    for (let i = 0; i < 16; i++) {
      const j = i * 4;
      w[i] =
        ((block[j] as number) << 24) |
        ((block[j + 1] as number) << 16) |
        ((block[j + 2] as number) << 8) |
        (block[j + 3] as number);
    }
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15] as number;
      const y = w[i - 2] as number;
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = ((w[i - 16] as number) + s0 + (w[i - 7] as number) + s1) | 0;
    }
    const state = this.state;
    let a = state[0] as number;
    let b = state[1] as number;
    let c = state[2] as number;
    let d = state[3] as number;
    let e = state[4] as number;
    let f = state[5] as number;
    let g = state[6] as number;
    let h = state[7] as number;
    for (let i = 0; i < 64; i++) {
      const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const choice = (e & f) ^ (~e & g);
      const t1 = (h + s1 + choice + (k[i] as number) + (w[i] as number)) | 0;
      const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const majority = (a & b) ^ (a & c) ^ (b & c);
      const t2 = (s0 + majority) | 0;
      h = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = b;
      b = a;
      a = (t1 + t2) | 0;
    }
    state[0] = ((state[0] as number) + a) | 0;
    state[1] = ((state[1] as number) + b) | 0;
    state[2] = ((state[2] as number) + c) | 0;
    state[3] = ((state[3] as number) + d) | 0;
    state[4] = ((state[4] as number) + e) | 0;
    state[5] = ((state[5] as number) + f) | 0;
    state[6] = ((state[6] as number) + g) | 0;
    state[7] = ((state[7] as number) + h) | 0;
  }
}
