import { sql, type Kysely } from 'kysely';
import { ensurePartitions } from '../../src/audit/index.js';
import type { DB } from '../../src/db/schema.js';
import { setMembership, upsertContext, upsertUser } from '../../src/identity/index.js';
import { insertRoom } from '../../src/conference/index.js';
import { setSelfAssessment, upsertGrid, upsertLeb } from '../../src/competency/store.js';
import { acceptUsageRules, publishUsageRules } from '../../src/consent/index.js';
import { DAY, type Clock } from '../../src/shared/clock.js';

/** What was seeded for one person, so a test can check an export holds every item. */
export interface SeededPerson {
  userId: string;
  contextIds: string[];
  roomIds: string[];
  /** The rooms with their course, for join entries (seedRoomJoins). */
  rooms: { id: string; contextId: string }[];
  /** object_id of every activity entry: `seed-<n>`. */
  activity: number;
  consents: number;
  objections: number;
  sessions: number;
  restrictions: number;
  /** The teacher who assessed the grids and is responsible for the LEBs (another user). */
  teacherId: string;
  /** One competency grid per course (framework `seed-fw-<course>`), each with `itemsPerGrid` items. */
  gridIds: string[];
  itemsPerGrid: number;
  /** Items the pupil self-assessed (every second one). */
  selfAssessed: number;
  /** LEBs: one whose RET-09 date has passed (an erasure deletes it) and one current (kept, restricted). */
  lebIds: string[];
  /** Usage-rule versions the person accepted (VC-13). */
  acceptances: number;
}

/**
 * A person with data in every module that exists: memberships in several
 * courses, sessions, consents, an objection, rooms they created, restrictions,
 * and activity-log entries spread over the last days. Works on PGlite and
 * PostgreSQL; used by the DSR tests and the privacy benchmark.
 * Competency: a grid in every course, written the way the module writes them
 * (upsertGrid with a teacher's assessments, then the pupil's self-assessments),
 * and two LEBs. Consent: the accepted versions of the tenant's usage rules.
 * (Modules merged later add their own items here: LTI, IServ.)
 */
export async function seedRichPerson(
  db: Kysely<DB>,
  clock: Clock,
  options: { tenantId: string; subject?: string; contexts?: number; rooms?: number; activity?: number; issuer?: string; itemsPerGrid?: number },
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
  const rooms: { id: string; contextId: string }[] = [];
  for (let i = 0; i < (options.rooms ?? 2); i++) {
    const room = await insertRoom(db, clock, { tenantId, contextId: contextIds[i % contextIds.length]!, title: `Lerngruppe ${i}`, category: 'peer', backend: 'bbb', createdBy: userId });
    rooms.push({ id: room.id, contextId: room.context_id });
  }
  const roomIds = rooms.map((r) => r.id);
  await db.insertInto('consents').values([
    { tenant_id: tenantId, user_id: userId, scope: 'video', given_at: now, source: 'seed' },
    { tenant_id: tenantId, user_id: userId, scope: 'peer', given_at: now, withdrawn_at: now, source: 'seed' },
  ]).execute();
  await db.insertInto('objections').values({ tenant_id: tenantId, user_id: userId, scope: 'video', recorded_at: new Date(now.getTime() - DAY), lifted_at: now, source: 'seed' }).execute();
  await db.insertInto('sessions').values({ id_hash: `seed-${userId}`, tenant_id: tenantId, user_id: userId, context_id: contextIds[0]!, roles: ['student'], data: '{}', created_at: now, last_seen_at: now, expires_at: new Date(now.getTime() + DAY) }).execute();
  await db.insertInto('privacy_restrictions').values({ tenant_id: tenantId, user_id: userId, category: 'consent.consents', since: now }).execute();
  const activity = options.activity ?? 25;
  await seedActivity(db, clock, tenantId, userId, contextIds[0]!, activity, 'seed');

  // Competency grids in every course, assessed by the course's teacher, half self-assessed.
  const teacherId = await upsertUser(db, clock, { tenantId, source: 'lti', issuer, subject: `${options.subject ?? userId}-teacher`, displayName: 'Frau Seed' });
  const itemsPerGrid = options.itemsPerGrid ?? 8;
  const gridIds: string[] = [];
  let selfAssessed = 0;
  for (const [c, contextId] of contextIds.entries()) {
    await setMembership(db, clock, { tenantId, contextId, userId: teacherId, roles: ['teacher'], source: 'nrps' });
    const grid = await db.transaction().execute(async (trx) => {
      const written = await upsertGrid(trx, now, {
        tenantId,
        contextId,
        pupilId: userId,
        framework: `seed-fw-${c}`,
        title: `Kompetenzraster Kurs ${c}`,
        standardReachedAt: null,
        items: Array.from({ length: itemsPerGrid }, (_, i) => ({ competencyId: `k${i + 1}`, title: `Kompetenz ${i + 1}`, position: i, teacherLevel: i % 4, evidence: i % 3 === 0 ? `Nachweis ${i + 1}` : null })),
      }, teacherId);
      for (let i = 0; i < itemsPerGrid; i += 2) {
        await setSelfAssessment(trx, written.id, `k${i + 1}`, (i + 1) % 4, now);
        selfAssessed++;
      }
      return written;
    });
    gridIds.push(grid.id);
  }

  // LEBs: an old one past its RET-09 date and the current one (kept on erasure, restricted).
  const lebIds: string[] = [];
  const old = new Date(now.getTime() - 6 * 365 * DAY);
  for (const leb of [
    { schoolYear: `${old.getUTCFullYear()}/${String((old.getUTCFullYear() + 1) % 100).padStart(2, '0')}`, standardReachedAt: old },
    { schoolYear: '2026/27', standardReachedAt: null },
  ]) {
    lebIds.push(
      await db.transaction().execute((trx) =>
        upsertLeb(trx, now, {
          tenantId,
          contextId: contextIds[0]!,
          pupilId: userId,
          schoolYear: leb.schoolYear,
          responsibleTeacherIds: [teacherId],
          socialBehaviour: 'Hilfsbereit und aufmerksam.',
          learningBehaviour: 'Arbeitet selbstständig.',
          subjectCompetencies: 'Mathematik: sicher im Bruchrechnen.',
          standardReachedAt: leb.standardReachedAt,
        }),
      ),
    );
  }

  // VC-13: the tenant's usage rules (published once) and the person's acceptance of every version.
  const versions = (await db.selectFrom('usage_rules').select('version').where('tenant_id', '=', tenantId).orderBy('version').execute()).map((r) => r.version);
  if (!versions.length) {
    for (const text of ['Nutzungsregeln, Fassung 1', 'Nutzungsregeln, Fassung 2']) versions.push(await db.transaction().execute((trx) => publishUsageRules(trx, clock, { tenantId, textDe: text })));
  }
  // Older versions were accepted when they were current; only the latest can be accepted now.
  const latest = versions.at(-1)!;
  for (const version of versions.slice(0, -1)) {
    await db.insertInto('usage_rule_acceptances').values({ tenant_id: tenantId, user_id: userId, version, accepted_at: new Date(now.getTime() - DAY) }).onConflict((oc) => oc.doNothing()).execute();
  }
  if (!(await acceptUsageRules(db, clock, { tenantId, userId, version: latest }))) throw new Error('seed: usage rules could not be accepted');

  return { userId, contextIds, roomIds, rooms, activity, consents: 2, objections: 1, sessions: 1, restrictions: 1, teacherId, gridIds, itemsPerGrid, selfAssessed, lebIds, acceptances: versions.length };
}

/**
 * Joins to the rooms as the conference module logs them (ctx.audit.activity from
 * `enforce`: action `room.join`, object the room, context the room's course,
 * the deciding rule ids), `count` entries spread over the rooms and the last 3 days.
 */
export async function seedRoomJoins(db: Kysely<DB>, clock: Clock, tenantId: string, actorId: string, rooms: { id: string; contextId: string }[], count: number): Promise<void> {
  if (count <= 0 || !rooms.length) return;
  const now = clock.now();
  const from = new Date(now.getTime() - 3 * DAY);
  await ensurePartitions(db, 'activity_log', from, now);
  const spanMs = now.getTime() - from.getTime() - 1000;
  await sql`
    insert into activity_log (at, tenant_id, actor_id, context_id, action, object_type, object_id, outcome, rule_ids, details)
    select ${from}::timestamptz + (g * ${spanMs / count}::float8) * interval '1 millisecond',
           ${tenantId}::uuid, ${actorId}::uuid, (${sql.val(rooms.map((r) => r.contextId))}::uuid[])[1 + g % ${rooms.length}::int],
           'room.join', 'room', (${sql.val(rooms.map((r) => r.id))}::text[])[1 + g % ${rooms.length}::int], 'permit', array['VC-03', 'VC-07'], '{}'::jsonb
    from generate_series(0, ${count - 1}::int) as g`.execute(db);
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
