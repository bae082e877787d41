import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.js';
import type { Clock } from '../shared/clock.js';

export type ConsentScope = 'video' | 'peer';

/** VC-07: a recorded, unwithdrawn consent. */
export async function hasConsent(db: Kysely<DB>, tenantId: string, userId: string, scope: ConsentScope): Promise<boolean> {
  const row = await db
    .selectFrom('consents')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('scope', '=', scope)
    .where('withdrawn_at', 'is', null)
    .executeTakeFirst();
  return Boolean(row);
}

/** VC-06 / DSR-04: an objection in force. */
export async function hasObjection(db: Kysely<DB>, tenantId: string, userId: string): Promise<boolean> {
  const row = await db.selectFrom('objections').select('id').where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('lifted_at', 'is', null).executeTakeFirst();
  return Boolean(row);
}

/** Records an objection (Art. 21); it takes effect at the next join. Idempotent while one is in force. */
export async function recordObjection(db: Kysely<DB>, clock: Clock, o: { tenantId: string; userId: string; source: string }): Promise<void> {
  if (await hasObjection(db, o.tenantId, o.userId)) return;
  await db.insertInto('objections').values({ tenant_id: o.tenantId, user_id: o.userId, scope: 'video', recorded_at: clock.now(), source: o.source }).execute();
}

/** VC-13: the tenant's current usage rules, or null when the tenant has none yet. */
export async function currentUsageRules(db: Kysely<DB>, tenantId: string): Promise<{ version: number; textDe: string; textEn: string | null } | null> {
  const row = await db.selectFrom('usage_rules').selectAll().where('tenant_id', '=', tenantId).orderBy('version', 'desc').limit(1).executeTakeFirst();
  return row ? { version: row.version, textDe: row.text_de, textEn: row.text_en } : null;
}

/** VC-13: accepted the current version (true while the tenant has no usage rules). */
export async function hasAcceptedUsageRules(db: Kysely<DB>, tenantId: string, userId: string): Promise<boolean> {
  const current = await currentUsageRules(db, tenantId);
  if (!current) return true;
  const row = await db
    .selectFrom('usage_rule_acceptances')
    .select('version')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('version', '=', current.version)
    .executeTakeFirst();
  return Boolean(row);
}

/** Stores an acceptance of a given version (idempotent); false if that version is not the current one. */
export async function acceptUsageRules(db: Kysely<DB>, clock: Clock, a: { tenantId: string; userId: string; version: number }): Promise<boolean> {
  const current = await currentUsageRules(db, a.tenantId);
  if (!current || current.version !== a.version) return false;
  await db
    .insertInto('usage_rule_acceptances')
    .values({ tenant_id: a.tenantId, user_id: a.userId, version: a.version, accepted_at: clock.now() })
    .onConflict((oc) => oc.columns(['tenant_id', 'user_id', 'version']).doNothing())
    .execute();
  return true;
}

/** VC-13: publishes a new version (previous acceptances no longer count). Run inside the caller's transaction. */
export async function publishUsageRules(trx: Kysely<DB>, clock: Clock, r: { tenantId: string; textDe: string; textEn?: string | null }): Promise<number> {
  const last = await trx.selectFrom('usage_rules').select((eb) => eb.fn.max('version').as('v')).where('tenant_id', '=', r.tenantId).executeTakeFirst();
  const version = Number(last?.v ?? 0) + 1;
  await trx.insertInto('usage_rules').values({ tenant_id: r.tenantId, version, text_de: r.textDe, text_en: r.textEn ?? null, created_at: clock.now() }).execute();
  return version;
}

export interface ConsentInput {
  userId: string;
  scope: ConsentScope;
  givenAt: Date;
  withdrawnAt?: Date | null;
}

/**
 * Bulk import (VC-07, VC-09): per user and scope the imported state replaces the open one;
 * a withdrawal takes effect at the next join. Run inside the caller's transaction.
 */
export async function importConsents(trx: Kysely<DB>, tenantId: string, source: string, items: ConsentInput[]): Promise<{ given: number; withdrawn: number }> {
  let given = 0;
  let withdrawn = 0;
  for (const c of items) {
    const open = await trx.selectFrom('consents').select(['id', 'given_at']).where('tenant_id', '=', tenantId).where('user_id', '=', c.userId).where('scope', '=', c.scope).where('withdrawn_at', 'is', null).executeTakeFirst();
    if (c.withdrawnAt) {
      if (open) await trx.updateTable('consents').set({ withdrawn_at: c.withdrawnAt }).where('id', '=', open.id).execute();
      else await trx.insertInto('consents').values({ tenant_id: tenantId, user_id: c.userId, scope: c.scope, given_at: c.givenAt, withdrawn_at: c.withdrawnAt, source }).execute();
      withdrawn++;
    } else {
      if (!open) await trx.insertInto('consents').values({ tenant_id: tenantId, user_id: c.userId, scope: c.scope, given_at: c.givenAt, source }).execute();
      given++;
    }
  }
  return { given, withdrawn };
}

/** Lifts an objection in force; returns whether there was one. */
export async function liftObjection(db: Kysely<DB>, clock: Clock, tenantId: string, userId: string): Promise<boolean> {
  const r = await db.updateTable('objections').set({ lifted_at: clock.now() }).where('tenant_id', '=', tenantId).where('user_id', '=', userId).where('lifted_at', 'is', null).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** VC-06/VC-07: counts only (never names or reasons) of a context's pupils without consent / with an objection. */
export async function consentCounts(db: Kysely<DB>, tenantId: string, contextId: string): Promise<{ pupils: number; withoutConsent: number; withObjection: number }> {
  const pupils = await db
    .selectFrom('memberships')
    .innerJoin('users', 'users.id', 'memberships.user_id')
    .select('memberships.user_id')
    .where('memberships.tenant_id', '=', tenantId)
    .where('memberships.context_id', '=', contextId)
    .where('users.deleted_at', 'is', null)
    .where(sql<boolean>`'student' = any(memberships.roles)`)
    .execute();
  const ids = pupils.map((p) => p.user_id);
  if (!ids.length) return { pupils: 0, withoutConsent: 0, withObjection: 0 };
  const consenting = await db.selectFrom('consents').select('user_id').distinct().where('tenant_id', '=', tenantId).where('scope', '=', 'video').where('withdrawn_at', 'is', null).where('user_id', 'in', ids).execute();
  const objecting = await db.selectFrom('objections').select('user_id').distinct().where('tenant_id', '=', tenantId).where('lifted_at', 'is', null).where('user_id', 'in', ids).execute();
  return { pupils: ids.length, withoutConsent: ids.length - consenting.length, withObjection: objecting.length };
}
