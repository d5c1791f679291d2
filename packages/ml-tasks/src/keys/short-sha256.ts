// SHA-256 (FIPS 180-4) of short messages, in place, with no allocation: the row keys of a batch are
// hashes of ~15-byte texts, where a native hash call costs more in crossing into C++ and building
// strings than the hashing itself. Messages of up to 55 bytes take one compression; longer ones
// take as many blocks as they need. Checked against node:crypto in the tests.

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

const HEX = Uint8Array.from('0123456789abcdef', (c) => c.charCodeAt(0));

/** Hashes bytes into lowercase hex; reusable, not reentrant (one scratch schedule per instance). */
export class ShortSha256 {
  private readonly w = new Int32Array(64);
  private readonly state = new Int32Array(8);
  private readonly block = new Uint8Array(64);

  /**
   * Writes the 64 lowercase hex characters of SHA-256(message[start, end)) as ASCII bytes at
   * out[outOffset…]. `message` is not modified.
   */
  hashHexInto(message: Uint8Array, start: number, end: number, out: Uint8Array, outOffset: number): void {
    const state = this.state;
    const hex = HEX;
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
    for (let i = 0; i < 8; i++) {
      const word = state[i] as number;
      const o = outOffset + i * 8;
      out[o] = hex[(word >>> 28) & 15] as number;
      out[o + 1] = hex[(word >>> 24) & 15] as number;
      out[o + 2] = hex[(word >>> 20) & 15] as number;
      out[o + 3] = hex[(word >>> 16) & 15] as number;
      out[o + 4] = hex[(word >>> 12) & 15] as number;
      out[o + 5] = hex[(word >>> 8) & 15] as number;
      out[o + 6] = hex[(word >>> 4) & 15] as number;
      out[o + 7] = hex[word & 15] as number;
    }
  }

  private compress(block: Uint8Array): void {
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
