// `npm run bench -- <name> [--quick]`: runs bench/<name>.ts in its own process. Each benchmark prints
// its measured figures and, as its last line, one JSON object {"bench": "<name>", …}.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();
const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || !existsSync(`${here}${name}.ts`)) {
  console.error(`usage: npm run bench -- <name> [--quick]\nbenchmarks: ${available.join(', ')}`);
  process.exit(name && name !== '--help' ? 2 : 0);
}
const result = spawnSync(process.execPath, ['--import', 'tsx', '--expose-gc', `${here}${name}.ts`, ...rest], {
  stdio: 'inherit',
});
process.exit(result.status ?? 1);
