export const ROLES = ['admin', 'reviewer', 'finance', 'contact', 'recipient', 'auditor'] as const;
export type RoleName = (typeof ROLES)[number];

/** Roles an admin may grant or revoke by command (contacts come through invites, recipients through links). */
export const GRANTABLE_ROLES = [
  'admin',
  'reviewer',
  'finance',
  'auditor',
] as const satisfies readonly RoleName[];

export interface RoleSet {
  roles: ReadonlySet<RoleName>;
  /** Unions the person is a contact for. */
  unionIds: readonly number[];
}

export const isStaff = (r: RoleSet) =>
  r.roles.has('admin') || r.roles.has('reviewer') || r.roles.has('finance');
export const hasRole = (r: RoleSet, ...roles: RoleName[]) => roles.some((x) => r.roles.has(x));

// ------------------------------------------------------------------------------------------- auditors
// An auditor (审计人员: the union's audit committee, auditors sent by the city union, the audit bureau)
// reads everything an auditor needs and changes nothing. Separation of duties: nobody is both auditor
// and someone whose work is audited.

/** True when the person may only read: every changing command, button and dialog refuses them. */
export const isReadOnly = (roles: ReadonlySet<RoleName>): boolean => roles.has('auditor');

/** Roles that cannot be held together with `role` (the auditor checks the others' work). */
export function conflictingRoles(role: RoleName, held: ReadonlySet<RoleName>): RoleName[] {
  const audited: RoleName[] = ['admin', 'reviewer', 'finance', 'contact'];
  if (role === 'auditor') return audited.filter((r) => held.has(r));
  if (audited.includes(role) && held.has('auditor')) return ['auditor'];
  return [];
}

export type LedgerAccess = 'full' | 'masked';

/**
 * What a set of roles may see in a ledger; null = no ledger. Admin and finance: full values; reviewers
 * masked; auditors masked unless the campaign file allows them full values
 * (`settings.auditor_full_values: true`).
 */
export function ledgerAccess(
  roles: ReadonlySet<RoleName>,
  campaign: { auditorFullValues?: boolean } = {},
): LedgerAccess | null {
  if (roles.has('admin') || roles.has('finance')) return 'full';
  if (roles.has('auditor')) return campaign.auditorFullValues === true ? 'full' : 'masked';
  if (roles.has('reviewer')) return 'masked';
  return null;
}
