// `npm run bench -- serve-lookups [--quick]`: batch lookups through PredictionClient under a canary
// split against the unsplit client (bench/support/split-lookups.ts), three times; prints each run and,
// as its last line, the median of the three:
// {"bench":"serve-lookups","splitOpsPerSec":…,"unsplitOpsPerSec":…,"ratio":…,"baseline":{"unsplitOpsPerSec":…}}.
import { cpus } from 'node:os';
import { measureSplitLookups, type SplitLookupFigures } from './support/split-lookups.js';

const quick = process.argv.includes('--quick');
const runs: SplitLookupFigures[] = [];
console.log(`serve-lookups: ${cpus().length} cores, Node ${process.version}${quick ? ', --quick' : ''}`);
for (let run = 0; run < 3; run++) {
  const figures = await measureSplitLookups({ quick });
  runs.push(figures);
  console.log(
    `run ${run + 1}: split ${figures.splitOpsPerSec.toLocaleString('en')} lookups/s, unsplit ${figures.unsplitOpsPerSec.toLocaleString('en')} lookups/s, ratio ${figures.ratio}`,
  );
}
const middle = [...runs].sort((a, b) => a.ratio - b.ratio)[1]!;
const median = (pick: (figures: SplitLookupFigures) => number) => runs.map(pick).sort((a, b) => a - b)[1]!;
console.log(
  JSON.stringify({
    bench: 'serve-lookups',
    splitOpsPerSec: median((f) => f.splitOpsPerSec),
    unsplitOpsPerSec: median((f) => f.unsplitOpsPerSec),
    ratio: middle.ratio,
    baseline: { unsplitOpsPerSec: median((f) => f.unsplitOpsPerSec) },
    runs,
  }),
);
