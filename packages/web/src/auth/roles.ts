// Roles, from least to most: a viewer reads, an operator also triggers, cancels, clears and pauses, an
// admin also manages users and tokens.
export const ROLES = ['viewer', 'operator', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** Who a request acts for. */
export interface Principal {
  kind: 'user' | 'token' | 'anonymous';
  name: string;
  role: Role;
}

/** True when `role` is at least `needed`. */
export function roleAllows(role: Role, needed: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(needed);
}
