import type { z } from 'zod';
import type { ResourceSpec, TaskContext } from '../dag/model.js';
import { BatutaError } from '../errors.js';

/** An operator: a named, reusable task body that YAML files can name (`operator: shell`). */
export interface OperatorDefinition<Args = Record<string, unknown>> {
  name: string;
  description: string;
  /** Validates the task's `with:` block at load time; errors point at the field. */
  args?: z.ZodType<Args>;
  /** Resources this operator needs unless the task says otherwise. */
  resources?: Partial<ResourceSpec>;
  run(context: TaskContext, args: Args): unknown | Promise<unknown>;
}

/** The operators a loader and a worker know by name. Plug-ins register their own in a few lines. */
export class OperatorRegistry {
  private readonly operators = new Map<string, OperatorDefinition<never>>();

  /** Adds an operator; a second registration of the same name is an error unless `replace` is set. */
  register<Args>(definition: OperatorDefinition<Args>, options: { replace?: boolean } = {}): this {
    if (this.operators.has(definition.name) && !options.replace) {
      throw new BatutaError('OPERATOR_EXISTS', `operator '${definition.name}' is already registered`);
    }
    this.operators.set(definition.name, definition as unknown as OperatorDefinition<never>);
    return this;
  }

  get(name: string): OperatorDefinition<unknown> | undefined {
    return this.operators.get(name) as OperatorDefinition<unknown> | undefined;
  }

  has(name: string): boolean {
    return this.operators.has(name);
  }

  names(): string[] {
    return [...this.operators.keys()].sort();
  }

  /** A copy, so a caller can add plug-ins without touching the original. */
  clone(): OperatorRegistry {
    const copy = new OperatorRegistry();
    for (const definition of this.operators.values()) copy.register(definition);
    return copy;
  }
}

/** A helper with inference: `defineOperator({ name, args: z.object(...), run })`. */
export function defineOperator<Args>(definition: OperatorDefinition<Args>): OperatorDefinition<Args> {
  return definition;
}
