import { sql } from 'kysely';
import { describeWithDatabases } from '../harness/db.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { createTenant, personIn } from '../harness/people.js';
import { ensurePartitions } from '../../src/audit/index.js';
import { auditPrivacy } from '../../src/audit/privacy.js';

describeWithDatabases('DSR-01: the activity-log export pages without losing entries', (use) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(use());
  });
  afterAll(async () => {
    await t.ctx.audit.close();
  });

  test('entries sharing a timestamp across page edges are all exported, once', async () => {
    const tenant = await createTenant(t, 'act-a');
    const person = await personIn(t, tenant.id, { roles: ['student'] });
    const start = new Date('2026-11-21T10:00:00Z');
    await ensurePartitions(t.ctx.db, 'activity_log', start, t.clock.now());
    // 12,001 entries, 7 per timestamp, so ties straddle the 5,000-row pages; plus one block of 5,003 identical timestamps.
    await sql`insert into activity_log (at, tenant_id, actor_id, action, outcome, object_id)
      select ${start}::timestamptz + (g / 7) * interval '1 second', ${tenant.id}::uuid, ${person.userId}::uuid, 'launch', 'ok', 'a-' || g
      from generate_series(0, 12000) g`.execute(t.ctx.db);
    await sql`insert into activity_log (at, tenant_id, actor_id, action, outcome, object_id)
      select ${start}::timestamptz + interval '2 hours', ${tenant.id}::uuid, ${person.userId}::uuid, 'join', 'ok', 'b-' || g
      from generate_series(0, 5002) g`.execute(t.ctx.db);
    const seen: string[] = [];
    for await (const item of auditPrivacy.export(t.ctx.db, { tenantId: tenant.id, userId: person.userId })) seen.push(String(item.row.object_id));
    expect(seen).toHaveLength(12001 + 5003);
    expect(new Set(seen).size).toBe(12001 + 5003);
  });
});
