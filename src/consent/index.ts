import type { Kysely } from 'kysely';
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
