import { sql } from 'kysely';
import { runJob } from '../../jobs/index.js';
import { MINUTE } from '../../src/shared/clock.js';
import { createTestApp, type TestApp } from '../harness/app.js';
import { describeWithDatabases } from '../harness/db.js';
import { createTenant } from '../harness/people.js';

describeWithDatabases('sessions job: short-lived login state (SEC-03)', (use) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(use());
  });
  afterAll(() => t.ctx.audit.close());

  test('expired LTI state and registration tokens go; live ones stay; dry run changes nothing', async () => {
    const tenant = await createTenant(t, 'gs-housekeeping');
    const now = t.clock.now();
    const past = new Date(now.getTime() - MINUTE);
    const future = new Date(now.getTime() + 10 * MINUTE);
    await sql`insert into lti_documents (collection, doc, created_at, expires_at) values
      ('nonce', '{"nonce":"old"}', ${past}, ${past}), ('nonce', '{"nonce":"new"}', ${now}, ${future})`.execute(t.ctx.db);
    await sql`insert into lti_registration_tokens (token_hash, tenant_id, expires_at) values ('h-old', ${tenant.id}, ${past}), ('h-new', ${tenant.id}, ${future})`.execute(t.ctx.db);

    const dry = await runJob(t.ctx, 'sessions', { dryRun: true, only: 'lti-state' });
    expect(JSON.stringify(dry)).toContain('"deleted":2');
    expect((await sql<{ n: number }>`select count(*)::int as n from lti_documents`.execute(t.ctx.db)).rows[0]!.n).toBe(2);

    await runJob(t.ctx, 'sessions', { only: 'lti-state' });
    const docs = await sql<{ nonce: string }>`select doc->>'nonce' as nonce from lti_documents`.execute(t.ctx.db);
    expect(docs.rows.map((r) => r.nonce)).toEqual(['new']);
    const tokens = await sql<{ token_hash: string }>`select token_hash from lti_registration_tokens`.execute(t.ctx.db);
    expect(tokens.rows.map((r) => r.token_hash)).toEqual(['h-new']);
    const protocol = await t.ctx.db.selectFrom('retention_runs').selectAll().where('category', '=', 'lti-state').execute();
    expect(protocol.at(-1)).toMatchObject({ outcome: 'ok', deleted: 2 });
  });
});
