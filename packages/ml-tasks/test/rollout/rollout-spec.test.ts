// A canary step's hold time, as a duration ('1h', '30m', '90s': the DAG files' grammar and parser) or in
// milliseconds: one form (holdMs) after parsing, and a message naming the step and what to write when it
// is given twice, not at all, or wrong.
import { describe, expect, it } from 'vitest';
import { rolloutSpecSchema } from '../../src/rollout/rollout-spec.js';

const canary = (steps: unknown[]) => ({ strategy: 'canary', model: 'iris', baseline: 'v1', candidate: 'v2', steps });
const stepsOf = (steps: unknown[]) => {
  const spec = rolloutSpecSchema.parse(canary(steps));
  if (spec.strategy !== 'canary') throw new Error('not a canary');
  return spec.steps;
};
const problems = (steps: unknown[]) => {
  const result = rolloutSpecSchema.safeParse(canary(steps));
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
};

describe('a canary step’s hold time', () => {
  it.each([
    ['1h', 3_600_000],
    ['30m', 1_800_000],
    ['90s', 90_000],
    ['1h30m', 5_400_000],
    ['250ms', 250],
    ['0s', 0],
  ])('reads hold: %s as %i ms', (hold, ms) => {
    expect(stepsOf([{ share: 0.5, hold }])[0]).toEqual({ share: 0.5, holdMs: ms, minRequests: 100 });
  });

  it('still takes holdMs, and both forms mix across steps', () => {
    expect(
      stepsOf([
        { share: 0.1, holdMs: 60_000 },
        { share: 1, hold: '2m', minRequests: 5 },
      ]),
    ).toEqual([
      { share: 0.1, holdMs: 60_000, minRequests: 100 },
      { share: 1, holdMs: 120_000, minRequests: 5 },
    ]);
  });

  it('parses what it stored again unchanged (the stored rollout holds holdMs only)', () => {
    const spec = rolloutSpecSchema.parse(canary([{ share: 0.5, hold: '1h' }]));
    expect(rolloutSpecSchema.parse(JSON.parse(JSON.stringify(spec)))).toEqual(spec);
  });

  it.each([
    [[{ share: 0.5, hold: '1h', holdMs: 1 }], 'steps.0.hold: give the hold time once: hold or holdMs, not both'],
    [[{ share: 0.5 }], "steps.0.hold: a canary step needs its hold time: hold (e.g. '1h', '30m', '90s') or holdMs"],
    [[{ share: 0.5, hold: '1 hour' }], 'steps.0.hold: "1 hour" contains spaces'],
    [[{ share: 0.5, hold: '2w' }], 'steps.0.hold: "2w" has an unknown unit \'w\'; weeks are not a unit'],
    [[{ share: 0.5, hold: 3600 }], 'steps.0.hold: '],
    [
      [{ share: 0.5, holdMs: '1h' }],
      "steps.0.holdMs: holdMs is a number of milliseconds; for a duration such as '1h' write hold: 1h",
    ],
    [[{ share: 0.5, holdMs: 1.5 }], 'steps.0.holdMs: '],
  ])('refuses %j, saying what to write', (steps, message) => {
    expect(problems(steps).join('\n')).toContain(message);
  });
});
