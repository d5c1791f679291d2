// The rollout operators as a DAG's tasks run them: start a canary, check it (held: too early), force a
// step, promote (current switches), abort (current switches back); bad arguments name the field.
import { createOperatorRegistry, type TaskContext } from '@batuta/scheduler';
import { useRedisServer } from '@batuta/testing';
import { describe, expect, it } from 'vitest';
import { ingestPredictions, registerMlOperators } from '../../src/index.js';

const registry = registerMlOperators(createOperatorRegistry());
const harness = useRedisServer();

function context(taskId: string, logs: string[] = []): TaskContext {
  return {
    dagId: 'weekly_retrain',
    runId: 'manual__1',
    taskId,
    mapIndex: -1,
    tryNumber: 1,
    logicalDateMs: 0,
    params: {},
    inputs: {},
    item: undefined,
    signal: new AbortController().signal,
    log: (line) => logs.push(line),
    progress: () => {},
  };
}

async function run(name: string, args: Record<string, unknown>, logs?: string[]): Promise<unknown> {
  const operator = registry.get(name);
  if (!operator?.args) throw new Error(`no operator ${name}`);
  return operator.run(context(name, logs), operator.args.parse(args));
}

describe('the rollout operators', () => {
  it('start → advance (held, then forced) → promote → abort, switching current on promote and back on abort', async () => {
    const namespace = harness.namespace('ops');
    for (const version of ['v1', 'v2']) {
      await ingestPredictions(harness.redis, {
        model: 'iris',
        namespace,
        version,
        keys: ['a'],
        labels: ['setosa'],
        keyScheme: { scheme: 'python-text' },
        classNames: ['setosa'],
        featureCount: 4,
      });
    }
    await harness.redis.set(`batuta:${namespace}:pred:iris:current`, 'v1');
    const where = { model: 'iris', namespace, redisUrl: harness.url };
    const rollout = {
      strategy: 'canary',
      baseline: 'v1',
      candidate: 'v2',
      steps: [
        { share: 0.05, holdMs: 3_600_000 },
        { share: 0.5, holdMs: 3_600_000 },
      ],
    };
    expect(await run('ml.rollout.start', { ...where, rollout })).toMatchObject({ status: 'running', step: 1 });
    const logs: string[] = [];
    expect(await run('ml.rollout.advance', where, logs)).toMatchObject({ status: 'running', step: 1 });
    expect(logs[0]).toMatch(/^iris: hold \(step 1 holds/);
    expect(await run('ml.rollout.advance', { ...where, force: true })).toMatchObject({ status: 'running', step: 2 });
    expect(await run('ml.rollout.promote', where)).toMatchObject({ status: 'promoted', serving: 'v2' });
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:current`)).toBe('v2');
    expect(await run('ml.rollout.abort', { ...where, reason: 'complaints' })).toMatchObject({
      status: 'aborted',
      serving: 'v1',
      reason: 'complaints',
    });
    expect(await harness.redis.get(`batuta:${namespace}:pred:iris:current`)).toBe('v1');
  });

  it('refuses a rollout with a bad field, naming it, and a promote with nothing running', async () => {
    const where = { model: 'iris', namespace: harness.namespace('bad'), redisUrl: harness.url };
    await expect(
      run('ml.rollout.start', { ...where, rollout: { strategy: 'ab', baseline: 'v1' } }),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: /rollout: candidate: /,
    });
    await expect(run('ml.rollout.promote', where)).rejects.toMatchObject({ code: 'NO_ROLLOUT' });
  });
});
