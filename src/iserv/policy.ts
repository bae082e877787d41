/**
 * Pure decisions for IServ logins: which app roles a person gets from the
 * roles and groups IServ vouches for. No I/O.
 */
import { z } from 'zod';
import { APP_ROLES, type AppRole } from '../identity/roles.js';

/** One line of a tenant's mapping: an IServ role or group (by id/act or name, case-insensitive) → app roles. */
export interface MappingRule {
  on: 'role' | 'group';
  match: string;
  roles: AppRole[];
}

export const mappingRuleSchema = z
  .object({
    on: z.enum(['role', 'group']).describe('`role`: an entry of the `roles[]` claim (id or name); `group`: an entry of `groups[]` (act or name)'),
    match: z.string().trim().min(1).max(200).describe('Compared case-insensitively with the role id/name or the group act/name'),
    roles: z.array(z.enum(APP_ROLES)).min(1).max(APP_ROLES.length),
  })
  .strict();

export const mappingRulesSchema = z.array(mappingRuleSchema).max(500);

const role = (match: string, roles: AppRole[]): MappingRule => ({ on: 'role', match, roles });

/**
 * VC-08: the roles that only restrict are always recognised, whatever a tenant's
 * mapping says; an edited mapping cannot switch the restriction off.
 */
export const RESTRICTING_RULES: readonly MappingRule[] = [
  role('Schulsozialarbeit', ['social_work']),
  role('Schulsozialarbeiter', ['social_work']),
  role('Schulsozialarbeiterin', ['social_work']),
  role('Sozialarbeit', ['social_work']),
  role('Schulpsychologie', ['school_psychology']),
  role('Schulpsychologe', ['school_psychology']),
  role('Schulpsychologin', ['school_psychology']),
];

/**
 * Defaults for the role names a German IServ usually has, plus `ROLE_*` ids in
 * case an installation reports ids rather than names. A tenant replaces them
 * with its own list (the restricting rules above stay in force).
 */
export const DEFAULT_RULES: readonly MappingRule[] = [
  role('Schüler', ['student']),
  role('Schülerin', ['student']),
  role('Schüler/in', ['student']),
  role('Schülerinnen und Schüler', ['student']),
  role('ROLE_STUDENT', ['student']),
  role('Lehrer', ['teacher']),
  role('Lehrerin', ['teacher']),
  role('Lehrer/in', ['teacher']),
  role('Lehrkraft', ['teacher']),
  role('Lehrkräfte', ['teacher']),
  role('ROLE_TEACHER', ['teacher']),
  role('Schulleitung', ['leadership']),
  role('ROLE_SCHOOL_MANAGEMENT', ['leadership']),
  role('Verwaltung', ['staff']),
  role('Sekretariat', ['staff']),
  role('ROLE_ADMINISTRATION', ['staff']),
  role('Administrator', ['admin']),
  role('Administratorin', ['admin']),
  role('Admin', ['admin']),
  role('ROLE_ADMIN', ['admin']),
  role('Referendar', ['laa']),
  role('Referendarin', ['laa']),
  role('Referendar/in', ['laa']),
  role('LAA', ['laa']),
  role('Lehramtsanwärter', ['laa']),
  role('Lehramtsanwärterin', ['laa']),
  role('Datenschutzbeauftragte', ['dpo']),
  role('Datenschutzbeauftragter', ['dpo']),
  role('ROLE_DPO', ['dpo']),
  ...RESTRICTING_RULES,
];


/** What IServ said about the person (already validated). */
export interface IServMembershipClaims {
  roles: { id?: string; name?: string }[];
  groups: { act: string; name?: string }[];
}

const norm = (s: string | undefined) => (s ?? '').trim().toLocaleLowerCase('de-DE');

function matches(rule: MappingRule, claims: IServMembershipClaims): boolean {
  const wanted = norm(rule.match);
  if (rule.on === 'role') return claims.roles.some((r) => norm(r.id) === wanted || norm(r.name) === wanted);
  return claims.groups.some((g) => norm(g.act) === wanted || norm(g.name) === wanted);
}

/**
 * The person's app roles: the union over every matching rule of the tenant's
 * mapping, plus the restricting roles (always kept, VC-08). Ordered as APP_ROLES.
 */
export function mapRoles(rules: readonly MappingRule[], claims: IServMembershipClaims): AppRole[] {
  const found = new Set<AppRole>();
  for (const rule of [...rules, ...RESTRICTING_RULES]) {
    if (matches(rule, claims)) for (const r of rule.roles) found.add(r);
  }
  return APP_ROLES.filter((r) => found.has(r));
}
