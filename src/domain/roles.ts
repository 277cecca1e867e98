export const ROLES = ['admin', 'reviewer', 'finance', 'contact', 'recipient'] as const;
export type RoleName = (typeof ROLES)[number];

/** Roles an admin may grant or revoke by command (contacts come through invites, recipients through links). */
export const GRANTABLE_ROLES = ['admin', 'reviewer', 'finance'] as const satisfies readonly RoleName[];

export interface RoleSet {
  roles: ReadonlySet<RoleName>;
  /** Unions the person is a contact for. */
  unionIds: readonly number[];
}

export const isStaff = (r: RoleSet) =>
  r.roles.has('admin') || r.roles.has('reviewer') || r.roles.has('finance');
export const hasRole = (r: RoleSet, ...roles: RoleName[]) => roles.some((x) => r.roles.has(x));
