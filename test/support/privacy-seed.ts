import { sql, type Kysely } from 'kysely';
import { ensurePartitions } from '../../src/audit/index.js';
import type { DB } from '../../src/db/schema.js';
import { setMembership, upsertContext, upsertUser } from '../../src/identity/index.js';
import { insertRoom } from '../../src/conference/index.js';
import { DAY, type Clock } from '../../src/shared/clock.js';

/** What was seeded for one person, so a test can check an export holds every item. */
export interface SeededPerson {
  userId: string;
  contextIds: string[];
  roomIds: string[];
  /** object_id of every activity entry: `seed-<n>`. */
  activity: number;
  consents: number;
  objections: number;
  sessions: number;
  restrictions: number;
}

/**
 * A person with data in every module that exists: memberships in several
 * courses, sessions, consents, an objection, rooms they created, restrictions,
 * and activity-log entries spread over the last days. Works on PGlite and
 * PostgreSQL; used by the DSR tests and the privacy benchmark.
 * (Modules merged later add their own items here: grids, LEBs, LTI, IServ.)
 */
export async function seedRichPerson(
  db: Kysely<DB>,
  clock: Clock,
  options: { tenantId: string; subject?: string; contexts?: number; rooms?: number; activity?: number; issuer?: string },
): Promise<SeededPerson> {
  const { tenantId } = options;
  const issuer = options.issuer ?? 'https://moodle.test';
  const now = clock.now();
  const userId = await upsertUser(db, clock, { tenantId, source: 'lti', issuer, subject: options.subject ?? `seed-${now.getTime()}-${Math.random()}`, displayName: 'Paula Seed' });
  const contextIds: string[] = [];
  for (let i = 0; i < (options.contexts ?? 3); i++) {
    const contextId = await upsertContext(db, clock, { tenantId, source: 'lti', issuer, externalId: `seed-course-${i}`, title: `Kurs ${i}`, type: 'CourseSection' });
    await setMembership(db, clock, { tenantId, contextId, userId, roles: ['student'], source: 'nrps' });
    contextIds.push(contextId);
  }
  const roomIds: string[] = [];
  for (let i = 0; i < (options.rooms ?? 2); i++) {
    const room = await insertRoom(db, clock, { tenantId, contextId: contextIds[i % contextIds.length]!, title: `Lerngruppe ${i}`, category: 'peer', backend: 'bbb', createdBy: userId });
    roomIds.push(room.id);
  }
  await db.insertInto('consents').values([
    { tenant_id: tenantId, user_id: userId, scope: 'video', given_at: now, source: 'seed' },
    { tenant_id: tenantId, user_id: userId, scope: 'peer', given_at: now, withdrawn_at: now, source: 'seed' },
  ]).execute();
  await db.insertInto('objections').values({ tenant_id: tenantId, user_id: userId, scope: 'video', recorded_at: new Date(now.getTime() - DAY), lifted_at: now, source: 'seed' }).execute();
  await db.insertInto('sessions').values({ id_hash: `seed-${userId}`, tenant_id: tenantId, user_id: userId, context_id: contextIds[0]!, roles: ['student'], data: '{}', created_at: now, last_seen_at: now, expires_at: new Date(now.getTime() + DAY) }).execute();
  await db.insertInto('privacy_restrictions').values({ tenant_id: tenantId, user_id: userId, category: 'consent.consents', since: now }).execute();
  const activity = options.activity ?? 25;
  await seedActivity(db, clock, tenantId, userId, contextIds[0]!, activity, 'seed');
  return { userId, contextIds, roomIds, activity, consents: 2, objections: 1, sessions: 1, restrictions: 1 };
}

/** `count` activity entries for the actor over the last 3 days (object_id `<prefix>-<n>`), in one statement. */
export async function seedActivity(db: Kysely<DB>, clock: Clock, tenantId: string, actorId: string | null, contextId: string | null, count: number, prefix: string): Promise<void> {
  if (count <= 0) return;
  const now = clock.now();
  const from = new Date(now.getTime() - 3 * DAY);
  await ensurePartitions(db, 'activity_log', from, now);
  const spanMs = now.getTime() - from.getTime() - 1000;
  await sql`
    insert into activity_log (at, tenant_id, actor_id, context_id, action, object_type, object_id, outcome, rule_ids, details)
    select ${from}::timestamptz + (g * ${spanMs / count}::float8) * interval '1 millisecond',
           ${tenantId}::uuid, ${actorId}::uuid, ${contextId}::uuid,
           case when g % 3 = 0 then 'room.join' else 'launch' end, 'room', ${prefix} || '-' || g, 'permit', array['VC-03'], '{}'::jsonb
    from generate_series(0, ${count - 1}::int) as g`.execute(db);
}
