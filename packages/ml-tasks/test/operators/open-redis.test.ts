import { openRedis } from '@batuta/ml-tasks';
import { freePort } from '@batuta/scheduler/redis-server';
import { describe, expect, it } from 'vitest';

describe('openRedis', () => {
  it('says which Redis it could not reach without its password', async () => {
    const url = `redis://alice:hunter2-s3cret@127.0.0.1:${await freePort()}`;
    const failure = await openRedis(url).then(
      () => undefined,
      (error: unknown) => error as Error,
    );
    expect(failure?.message).toMatch(/cannot reach Redis at redis:\/\/alice:\*\*\*@127\.0\.0\.1/);
    expect(failure?.message).not.toContain('hunter2');
  });
});
