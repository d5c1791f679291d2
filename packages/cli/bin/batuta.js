#!/usr/bin/env node
// Thin launcher: the compiled CLI lives in dist/ (built by the workspace's `prepare` step).
import('../dist/main.js')
  .then((m) => m.main(process.argv.slice(2)))
  .then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      console.error(error instanceof Error ? error.message : String(error));
      process.exitCode = 1;
    },
  );
