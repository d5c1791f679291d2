import { describe, expect, it } from 'vitest';
import { redactCredentials } from '../../src/util/redact-credentials.js';

describe('redactCredentials', () => {
  it.each([
    ['redis://:hunter2@host:6379/0', 'redis://:***@host:6379/0'],
    ['rediss://alice:hunter2@host', 'rediss://alice:***@host'],
    ['redis://hunter2@host', 'redis://***@host'],
    ['redis://127.0.0.1:6379', 'redis://127.0.0.1:6379'],
    ['redis://host:6379/0?password=hunter2&db=1', 'redis://host:6379/0?password=***&db=1'],
    [
      'cannot reach Redis at redis://:p%40ss@a:1 (refused); also s3://key:secret@bucket/x',
      'cannot reach Redis at redis://:***@a:1 (refused); also s3://key:***@bucket/x',
    ],
    ['a password with a colon redis://u:a:b:c@h', 'a password with a colon redis://u:***@h'],
    ['no url here: user:pass@host', 'no url here: user:pass@host'],
  ])('%s → %s', (text, expected) => {
    expect(redactCredentials(text)).toBe(expected);
    expect(redactCredentials(expected)).toBe(expected);
  });
});
