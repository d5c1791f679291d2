import { describe, expect, it } from 'vitest';
import { SKIPPED_FIRES_LISTED, skippedFires } from '../../src/triggers/skipped-fires.js';
import { Timetable } from '../../src/triggers/timetable.js';
import { dagOf, MINUTE, START } from '../daemon/helpers.js';

const everyMinute = Timetable.of(dagOf('minutely', { schedule: '* * * * *' }))!;

describe('skippedFires', () => {
  it.each([
    ['none between consecutive fires', START, START + MINUTE, []],
    ['the fires strictly between', START, START + 3 * MINUTE, [START + MINUTE, START + 2 * MINUTE]],
    ['none when the created fire is the last one', START + MINUTE, START + MINUTE, []],
  ])('lists %s', (_what, lastMs, createdMs, expected) => {
    expect(skippedFires(everyMinute, lastMs, createdMs)).toEqual({ logicalDatesMs: expected, more: false });
  });

  it('lists at most SKIPPED_FIRES_LISTED dates and says there were more', () => {
    const skipped = skippedFires(everyMinute, START, START + (SKIPPED_FIRES_LISTED + 10) * MINUTE);
    expect(skipped.logicalDatesMs).toHaveLength(SKIPPED_FIRES_LISTED);
    expect(skipped.logicalDatesMs[0]).toBe(START + MINUTE);
    expect(skipped.more).toBe(true);
  });
});
