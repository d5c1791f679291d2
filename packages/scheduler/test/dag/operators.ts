// The registry the DAG tests load against: `empty` (no arguments) and `shell` (a checked `command`).
import { z } from 'zod';
import { OperatorRegistry } from '../../src/operators/registry.js';

export function testOperators(): OperatorRegistry {
  return new OperatorRegistry()
    .register({ name: 'empty', description: 'Does nothing.', run: () => undefined })
    .register({
      name: 'shell',
      description: 'Runs a command.',
      args: z.strictObject({ command: z.string().min(1), cwd: z.string().optional() }),
      run: () => undefined,
    });
}
