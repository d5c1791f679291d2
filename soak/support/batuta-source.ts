// `batuta` run from the TypeScript sources (through tsx, with tsconfig.tests.json's paths mapping every
// @batuta/* import to its package's src/), so the soak exercises the code in the work tree without a build.
import { main } from '@batuta/cli';

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  return 1;
});
