// The one FNV-1a of the code base. Run ids, retry jitter and scheduler shares all persist or compare its
// values across processes and versions, so every caller must hash exactly alike: never copy it.

const OFFSET_BASIS = 0x811c9dc5;
const PRIME = 0x01000193;

/** 32-bit FNV-1a over UTF-16 code units, as an unsigned integer: small, fast, stable across platforms. */
export function fnv1a32(text: string): number {
  let hash = OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, PRIME);
  }
  return hash >>> 0;
}
