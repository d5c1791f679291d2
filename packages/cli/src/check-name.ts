import { idProblem } from '@batuta/scheduler';
import { UsageError } from './cli-error.js';

/**
 * Refuses a DAG id or event name outside the one charset (letters, digits, `_`, `.`, `-`; no `..`) as a
 * usage error: a name like `../*` would otherwise be stored as given and match nothing, silently.
 */
export function checkName(what: 'DAG' | 'event name', name: string): string {
  const problem = idProblem(name);
  if (problem) throw new UsageError(`${what} ${JSON.stringify(name)}: ${problem}`);
  return name;
}
