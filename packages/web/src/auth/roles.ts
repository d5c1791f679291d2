// Roles, from least to most: a viewer reads, an operator also triggers, cancels, clears and pauses, an
// admin also manages users and tokens.
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who a request acts for. */
export interface Principal {
  kind: 'user' | 'token' | 'anonymous';
  name: string;
  role: Role;
  /** The models this principal may call for predictions (a token's `predict` permission); undefined: by role. */
  models?: readonly string[];
}

/**
 * Whether a principal may ask a model for predictions (and send it feedback): an admin may, a token
 * limited to some models may call those, and anyone else from operator up.
 */
export function mayPredict(principal: Principal, model: string): boolean {
  if (principal.role === 'admin') return true;
  if (principal.models !== undefined) return principal.models.includes(model);
  return roleAllows(principal.role, 'operator');
}

/**
 * Whether a principal may see and (by its role) change a model's prediction sets and rollout on the web
 * API: a token limited to some models (its `predict` permission) is limited to those models there too;
 * an admin and anyone without such a limit may see every model.
 */
export function mayUseModel(principal: Principal, model: string): boolean {
  return principal.role === 'admin' || principal.models === undefined || principal.models.includes(model);
}

/** True when `role` is at least `needed`. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
