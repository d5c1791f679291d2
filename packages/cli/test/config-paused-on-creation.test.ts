// pausedOnCreation is resolved like every setting: flag > environment > config file > default (false).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'batuta-config-'));
  writeFileSync(join(dir, 'on.yaml'), 'pausedOnCreation: true\n');
  writeFileSync(join(dir, 'off.json'), '{"pausedOnCreation": false}');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const saved = process.env.BATUTA_PAUSED_ON_CREATION;
afterEach(() => {
  if (saved === undefined) delete process.env.BATUTA_PAUSED_ON_CREATION;
  else process.env.BATUTA_PAUSED_ON_CREATION = saved;
});

describe('pausedOnCreation in the CLI configuration', () => {
  const cases: Array<[string, { file?: string; env?: string; flag?: string }, boolean]> = [
    ['defaults to false', {}, false],
    ['comes from the config file', { file: 'on.yaml' }, true],
    ['the environment beats the config file', { file: 'on.yaml', env: 'false' }, false],
    ['the environment alone', { env: 'yes' }, true],
    ['a flag beats the environment', { file: 'off.json', env: 'true', flag: 'false' }, false],
    ['a flag beats the config file', { file: 'off.json', flag: 'true' }, true],
  ];
  it.each(cases)('%s', (_what, { file, env, flag }, expected) => {
    if (env === undefined) delete process.env.BATUTA_PAUSED_ON_CREATION;
    else process.env.BATUTA_PAUSED_ON_CREATION = env;
    const config = loadConfig({
      ...(file ? { config: join(dir, file) } : {}),
      ...(flag ? { 'paused-on-creation': flag } : {}),
    });
    expect(config.pausedOnCreation).toBe(expected);
  });

  it('refuses a value that is not a boolean, naming where it came from', () => {
    delete process.env.BATUTA_PAUSED_ON_CREATION;
    expect(() => loadConfig({ 'paused-on-creation': 'maybe' })).toThrow(
      "--paused-on-creation must be true or false, got 'maybe'",
    );
    process.env.BATUTA_PAUSED_ON_CREATION = 'sometimes';
    expect(() => loadConfig({})).toThrow("BATUTA_PAUSED_ON_CREATION must be true or false, got 'sometimes'");
  });
});
