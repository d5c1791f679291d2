// Shared by the ML benchmarks (scorer, pipeline): a seeded generator, so every run resamples the same
// rows, and the Python that can run the baseline.
import { spawnSync } from 'node:child_process';

/** mulberry32: a small seeded generator. */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The first python3 that can import `modules` (the pyenv shim first, then Debian's), if any. */
export function findPython(modules: string[]): string | undefined {
  const probe = `import ${modules.join(', ')}`;
  for (const candidate of ['python3', '/usr/bin/python3']) {
    if (spawnSync(candidate, ['-c', probe], { stdio: 'ignore' }).status === 0) return candidate;
  }
  return undefined;
}
