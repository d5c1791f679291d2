import { resolve } from 'node:path';
import { registerMlOperators } from '@batuta/ml-tasks';
import { createOperatorRegistry, importModule, type OperatorRegistry } from '@batuta/scheduler';
import { UsageError } from './cli-error.js';

/** The operators the CLI knows: the built-ins, the ML operators, and any `--plugin` modules. */
export async function loadOperators(plugins: string[] = []): Promise<OperatorRegistry> {
  const registry = createOperatorRegistry();
  registerMlOperators(registry);
  for (const plugin of plugins) {
    const module = await importModule(resolve(plugin));
    const register = module.register ?? module.default;
    if (typeof register !== 'function') {
      throw new UsageError(`plugin ${plugin} must export a function 'register(registry)'`);
    }
    await register(registry);
  }
  return registry;
}
