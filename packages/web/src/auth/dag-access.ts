// Per-DAG access (`access:` in a DAG file): who may see a DAG and its runs, and who may operate it
// (trigger, pause, cancel, clear, mark). An entry is a role — met by that role and every higher one — or
// `user:NAME`, met by the logged-in user NAME. Admins may do everything; a DAG without `access` is open to
// every role as the role allows. A DAG a principal may not see answers 404, as if it did not exist, so its
// name leaks nothing; one it may see but not operate answers 403.
import type { DagAccess, DagSpec } from '@batuta/scheduler';
import { ProblemError } from '../problem.js';
import { type Principal, ROLES, type Role, roleAllows } from './roles.js';

function meets(principal: Principal, entries: readonly string[]): boolean {
  return entries.some((entry) => {
    if (entry.startsWith('user:')) return principal.kind === 'user' && principal.name === entry.slice(5);
    return (ROLES as readonly string[]).includes(entry) && roleAllows(principal.role, entry as Role);
  });
}

/** Whether the principal may see the DAG (with this access) and its runs. */
export function mayView(principal: Principal, access: DagAccess | undefined): boolean {
  if (principal.role === 'admin' || access?.view === undefined) return true;
  return meets(principal, access.view) || (access.operate !== undefined && meets(principal, access.operate));
}

/** Whether the principal may operate the DAG: the operator role, and a match in `operate` when it is given. */
export function mayOperate(principal: Principal, access: DagAccess | undefined): boolean {
  if (principal.role === 'admin') return true;
  if (!roleAllows(principal.role, 'operator') || !mayView(principal, access)) return false;
  return access?.operate === undefined || meets(principal, access.operate);
}

/** The DAG when the principal may see it; a 404 problem otherwise (and for a DAG that is not loaded). */
export function visibleDag(principal: Principal, dags: ReadonlyMap<string, DagSpec>, dagId: string): DagSpec {
  const dag = dags.get(dagId);
  if (!dag || !mayView(principal, dag.access)) throw new ProblemError('not-found', `no DAG '${dagId}'`);
  return dag;
}

/** The DAG when the principal may operate it: 404 when it may not see it, 403 when it may only see it. */
export function operableDag(principal: Principal, dags: ReadonlyMap<string, DagSpec>, dagId: string): DagSpec {
  const dag = visibleDag(principal, dags, dagId);
  if (!roleAllows(principal.role, 'operator')) {
    throw new ProblemError('forbidden', `this needs the operator role; ${principal.name} is ${principal.role}`);
  }
  if (!mayOperate(principal, dag.access)) {
    throw new ProblemError('forbidden', `${principal.name} may see DAG '${dagId}' but not operate it (its access)`);
  }
  return dag;
}
