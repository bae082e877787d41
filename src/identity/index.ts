import type { Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';
import type { AppRole } from './roles.js';

export * from './roles.js';

export interface VerifiedUser {
  tenantId: string;
  /** 'lti' | 'iserv' | 'lms' */
  source: string;
  issuer: string;
  subject: string;
  displayName: string;
  /** Kept only where the tenant needs it. */
  email?: string | null;
}

/** Creates or refreshes the pseudonymous user for a verified identity; returns users.id. */
export async function upsertUser(db: Kysely<DB>, clock: Clock, user: VerifiedUser): Promise<string> {
  const now = clock.now();
  const row = await db
    .insertInto('users')
    .values({
      tenant_id: user.tenantId,
      source: user.source,
      issuer: user.issuer,
      subject: user.subject,
      display_name: user.displayName,
      email: user.email ?? null,
      created_at: now,
      last_seen_at: now,
    })
    .onConflict((oc) =>
      oc.columns(['tenant_id', 'issuer', 'subject']).doUpdateSet({ display_name: user.displayName, email: user.email ?? null, last_seen_at: now }),
    )
    .returning(['id', 'deleted_at'])
    .executeTakeFirstOrThrow();
  return row.id;
}

export interface VerifiedContext {
  tenantId: string;
  source: string;
  issuer: string;
  externalId: string;
  title: string;
  type: string;
}

export async function upsertContext(db: Kysely<DB>, clock: Clock, context: VerifiedContext): Promise<string> {
  const row = await db
    .insertInto('contexts')
    .values({
      tenant_id: context.tenantId,
      source: context.source,
      issuer: context.issuer,
      external_id: context.externalId,
      title: context.title,
      type: context.type,
      created_at: clock.now(),
    })
    .onConflict((oc) => oc.columns(['tenant_id', 'issuer', 'external_id']).doUpdateSet({ title: context.title, type: context.type }))
    .returning('id')
    .executeTakeFirstOrThrow();
  return row.id;
}

export async function setMembership(
  db: Kysely<DB>,
  clock: Clock,
  m: { tenantId: string; contextId: string; userId: string; roles: AppRole[]; source: string },
): Promise<void> {
  await db
    .insertInto('memberships')
    .values({ tenant_id: m.tenantId, context_id: m.contextId, user_id: m.userId, roles: m.roles, source: m.source, updated_at: clock.now() })
    .onConflict((oc) => oc.columns(['context_id', 'user_id']).doUpdateSet({ roles: m.roles, source: m.source, updated_at: clock.now() }))
    .execute();
}

/** The caller's roles in a context, from what the bridge itself verified (launch, roster, IServ groups). */
export async function rolesInContext(db: Kysely<DB>, tenantId: string, userId: string, contextId: string): Promise<AppRole[]> {
  const row = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select('memberships.roles')
    .where('memberships.tenant_id', '=', tenantId)
    .where('memberships.context_id', '=', contextId)
    .where('memberships.user_id', '=', userId)
    .where('users.deleted_at', 'is', null)
    .executeTakeFirst();
  return (row?.roles ?? []) as AppRole[];
}
