// Golden tests of every command's --help: the text is pinned in __golden__/help/*.txt, and docs/cli.md
// shows exactly the same text (regenerate both with `npm run docs:cli` and `vitest -u`).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allCommands, buildProgram, commandPath } from '../../src/program/program.js';
import { cliReference, REFERENCE_BEGIN, REFERENCE_END } from '../../src/program/reference.js';
import { runCli } from './run-cli.js';

const paths = allCommands(buildProgram({ exitCode: 0 }))
  .filter((command) => command.name() !== 'help')
  .map((command) => commandPath(command).split(' ').slice(1));

describe('batuta … --help', () => {
  it('covers every group and command of the issue', () => {
    const names = paths.map((path) => path.join(' '));
    for (const expected of [
      'scheduler',
      'worker',
      'demo',
      'dags validate',
      'dags test',
      'dags list',
      'dags trigger',
      'dags pause',
      'dags unpause',
      'dags backfill',
      'dags cancel',
      'runs show',
      'runs list',
      'events publish',
      'status',
      'predictions get',
      'predictions rollback',
      'predictions activate',
      'predictions versions',
      'db clean',
      'completion',
      'webserver',
      'serve',
      'rollout start',
      'rollout status',
      'rollout advance',
      'rollout promote',
      'rollout abort',
      'users add',
      'users remove',
      'users list',
      'tokens create',
      'tokens revoke',
      'tokens list',
    ])
      expect(names).toContain(expected);
  });

  it.each(paths.map((path) => [path.join(' ') || '(program)', path] as const))('%s', async (_name, path) => {
    const result = await runCli([...path, '--help']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain(`Usage: ${['batuta', ...path].join(' ')}`);
    await expect(`${result.stdout}\n`).toMatchFileSnapshot(`__golden__/help/${['batuta', ...path].join('-')}.txt`);
  });

  it('prints the program help with no arguments too, exit 0', async () => {
    const bare = await runCli([]);
    expect(bare.code).toBe(0);
    expect(bare.stdout).toBe((await runCli(['--help'])).stdout);
  });

  it('prints a group help for a group named without a verb, as a usage error (exit 2)', async () => {
    const result = await runCli(['dags']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Usage: batuta dags [options] [command]');
    expect(result.stderr).toContain('validate [options] <path...>');
  });

  it('names only the options each command accepts', async () => {
    const test = (await runCli(['dags', 'test', '--help'])).stdout;
    expect(test).not.toContain('--dry-run');
    expect(test).not.toContain('--redis');
    const validate = (await runCli(['dags', 'validate', '--help'])).stdout;
    for (const foreign of ['--wait', '--autoscale', '--redis']) expect(validate).not.toContain(foreign);
  });
});

describe('docs/cli.md', () => {
  it("holds the generated reference of the current program (run 'npm run docs:cli' after a change)", () => {
    const docs = readFileSync(new URL('../../../../docs/cli.md', import.meta.url), 'utf8');
    const begin = docs.indexOf(REFERENCE_BEGIN);
    const end = docs.indexOf(REFERENCE_END);
    expect(begin).toBeGreaterThan(0);
    expect(docs.slice(begin, end + REFERENCE_END.length)).toBe(cliReference());
  });
});
