// DAG ids, task ids and event names share one charset: letters, digits, '_', '.' and '-', never '..'.
import { describe, expect, it } from 'vitest';
import { defineDag } from '../../src/dag/define-dag.js';
import { idProblem } from '../../src/dag/issues.js';
import { validateDag } from '../../src/dag/validate.js';

describe('names', () => {
  it.each(['../etc', 'a..b', '*', 'a/b', 'ns:dag', ''])('refuses %j', (name) => {
    expect(idProblem(name)).toBeDefined();
  });

  it.each(['iris_batch', 'v1.2-beta', 'a.b.c'])('accepts %j', (name) => {
    expect(idProblem(name)).toBeUndefined();
  });

  it('reports an event name outside the charset where the DAG declares it', () => {
    expect(() => {
      const dag = defineDag({ id: 'listener', schedule: { events: ['ok', 'up/loads'] } });
      dag.task('work', { run: () => 1 });
      validateDag(dag.spec);
    }).toThrow(/INVALID_ID schedule\.events\[1\]: id "up\/loads" contains "\/"/);
  });
});
