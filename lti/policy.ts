/** Pure LTI decisions: role mapping and where a launch lands. No I/O. */
import { isAppRole, RESTRICTING_ROLES, type AppRole } from '../src/identity/roles.js';

const LIS = 'http://purl.imsglobal.org/vocab/lis/v2/';

/**
 * Defaults: LTI 1.3 role URIs (membership, institution, system) and the variants Moodle
 * and LTI 1.1 send, mapped to app roles. A tenant overrides single entries.
 * Note what is absent on purpose: no membership role maps to `leadership`, `laa`, `dpo`
 * or `admin` by default except the platform's own administrator roles.
 */
export const DEFAULT_ROLE_MAPPING: Readonly<Record<string, readonly AppRole[]>> = {
  [`${LIS}membership#Instructor`]: ['teacher'],
  [`${LIS}membership/Instructor#TeachingAssistant`]: ['teacher'],
  [`${LIS}membership#Learner`]: ['student'],
  [`${LIS}membership#Mentor`]: ['guest'],
  [`${LIS}membership#ContentDeveloper`]: ['staff'],
  [`${LIS}membership#Administrator`]: ['teacher'],
  [`${LIS}institution/person#Administrator`]: ['admin'],
  [`${LIS}institution/person#Faculty`]: ['staff'],
  [`${LIS}institution/person#Instructor`]: ['staff'],
  [`${LIS}institution/person#Staff`]: ['staff'],
  [`${LIS}institution/person#Student`]: ['student'],
  [`${LIS}institution/person#Learner`]: ['student'],
  [`${LIS}institution/person#Mentor`]: ['guest'],
  [`${LIS}institution/person#Guest`]: ['guest'],
  [`${LIS}system/person#Administrator`]: ['admin'],
  [`${LIS}system/person#SysAdmin`]: ['admin'],
  // LTI 1.1 / Moodle legacy forms
  'urn:lti:role:ims/lis/Instructor': ['teacher'],
  'urn:lti:role:ims/lis/Learner': ['student'],
  'urn:lti:role:ims/lis/TeachingAssistant': ['teacher'],
  'urn:lti:instrole:ims/lis/Administrator': ['admin'],
  'urn:lti:sysrole:ims/lis/Administrator': ['admin'],
};

/** Short forms the spec allows for context roles ("Instructor") become full membership URIs. */
export function normaliseRole(role: string): string {
  if (/^[A-Za-z]+$/.test(role)) return `${LIS}membership#${role}`;
  return role;
}

export interface RoleDecision {
  roles: AppRole[];
  /** LTI roles with no mapping (kept for the activity log as a count only). */
  unmapped: number;
  /** Custom-parameter roles refused because they would grant more (VC-08 only lets restricting roles in). */
  refusedCustom: string[];
}

/**
 * Platform roles → app roles through the tenant's mapping. A custom parameter `roles`
 * (comma-separated, set by a teacher on the activity) may only ADD restricting roles
 * (`social_work`, `school_psychology`, VC-08); anything else there is refused.
 */
export function mapRoles(ltiRoles: readonly string[], mapping: Readonly<Record<string, readonly AppRole[]>>, customRoles?: string): RoleDecision {
  const roles = new Set<AppRole>();
  let unmapped = 0;
  for (const raw of ltiRoles) {
    const mapped = mapping[normaliseRole(raw)];
    if (mapped && mapped.length > 0) mapped.forEach((r) => roles.add(r));
    else unmapped++;
  }
  const refusedCustom: string[] = [];
  for (const value of (customRoles ?? '').split(/[,\s]+/).filter(Boolean)) {
    if (isAppRole(value) && RESTRICTING_ROLES.includes(value)) roles.add(value);
    else refusedCustom.push(value);
  }
  if (roles.size === 0) roles.add('guest');
  return { roles: [...roles].sort(), unmapped, refusedCustom };
}

export function effectiveMapping(stored: Record<string, string[]> | null | undefined): Record<string, AppRole[]> {
  const out: Record<string, AppRole[]> = {};
  for (const [k, v] of Object.entries(DEFAULT_ROLE_MAPPING)) out[k] = [...v];
  for (const [k, v] of Object.entries(stored ?? {})) out[normaliseRole(k)] = v.filter(isAppRole);
  return out;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** CONTRACTS.md: where a resource-link launch lands. */
export function landingPath(contextId: string, custom: Record<string, unknown> | undefined): string {
  const room = typeof custom?.room === 'string' ? custom.room : undefined;
  if (room && UUID.test(room)) return `/rooms/${room}`;
  if (custom?.view === 'grids') return `/contexts/${contextId}/grids`;
  if (custom?.view === 'privacy') return '/privacy/me';
  return `/contexts/${contextId}`;
}

/** `CourseSection` (Moodle, bare) and `http://purl.imsglobal.org/vocab/lis/v2/course#CourseSection` both → `CourseSection`. */
export function contextType(type: unknown): string {
  const first = Array.isArray(type) ? type[0] : type;
  if (typeof first !== 'string' || first === '') return 'course';
  return first.split('#').pop()!;
}
