// The real executable: `node packages/cli/bin/batuta.js` (it loads the built dist/, as `npm test` builds
// it first), its version, its exit codes as a process, and the completion scripts it prints.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli.js';

const bin = fileURLToPath(new URL('../../bin/batuta.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/main.js', import.meta.url)));
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

function batuta(...args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 60_000 });
}

// Not skipped when the build is missing: `npm test` builds first, and a missing build is a failure to see.
describe('bin/batuta.js', () => {
  it('is built (npm test runs tsc -b first)', () => {
    expect(built).toBe(true);
  });

  it('prints the package version with --version', () => {
    const result = batuta('--version');
    expect(result.status).toBe(0);
    expect(result.stdout.trim()).toBe(version);
  });

  it('exits 2 on an unknown command, with a suggestion on stderr', () => {
    const result = batuta('dags', 'tset', 'f.yaml');
    expect(result.status).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('(Did you mean test?)');
  });
});

describe('batuta completion', () => {
  it.each(['bash', 'zsh', 'fish'])('%s: completes every group, verb and option', async (name) => {
    const result = await runCli(['completion', name]);
    expect(result.code).toBe(0);
    for (const word of ['dags', 'validate', 'backfill', 'runs', 'predictions', 'rollback', 'completion'])
      expect(result.stdout).toContain(word);
    for (const option of ['max-active-runs', 'older-than', 'json', 'namespace'])
      expect(result.stdout).toContain(option);
  });

  it('bash: the script parses and completes a verb and an option', async () => {
    const script = (await runCli(['completion', 'bash'])).stdout;
    const complete = (line: string) => {
      const words = line.split(' ');
      const probe = `${script}
COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _batuta; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const result = spawnSync('bash', ['-c', probe], { encoding: 'utf8' });
      expect(result.stderr).toBe('');
      return result.stdout.trim().split('\n');
    };
    expect(complete('batuta dags val')).toEqual(['validate']);
    expect(complete('batuta runs list --li')).toEqual(['--limit']);
    expect(complete('batuta status --js')).toEqual(['--json']);
    expect(complete('batuta d')).toEqual(['demo', 'dags', 'db']);
  });

  it('zsh: the script parses', async () => {
    const script = (await runCli(['completion', 'zsh'])).stdout;
    expect(spawnSync('zsh', ['-n', '-c', script], { encoding: 'utf8' }).status).toBe(0);
  });

  it('fish: the script parses', async () => {
    const script = (await runCli(['completion', 'fish'])).stdout;
    expect(spawnSync('fish', ['--no-execute', '-c', script], { encoding: 'utf8' }).status).toBe(0);
  });
});
