/** The bridge's own roles; platform roles map onto these per tenant. */
export const APP_ROLES = [
  'teacher',
  'student',
  'leadership',
  'staff',
  'laa',
  'dpo',
  'admin',
  'guest',
  'social_work',
  'school_psychology',
] as const;
export type AppRole = (typeof APP_ROLES)[number];

/** Roles that only restrict what someone may do (VC-08); a custom parameter may add these, nothing else. */
export const RESTRICTING_ROLES: readonly AppRole[] = ['social_work', 'school_psychology'];

/** Roles that moderate a context's rooms and read its grids (VC-03, ACC-01). */
export const TEACHING_ROLES: readonly AppRole[] = ['teacher', 'leadership'];

export const isAppRole = (r: string): r is AppRole => (APP_ROLES as readonly string[]).includes(r);
