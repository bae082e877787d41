import { sql } from 'kysely';
import { purgeExpiredLtiRecords } from '../lti/index.js';
import { purgeLogins } from './iserv/index.js';
import { processOpenRequests } from './privacy/index.js';
import type { RetentionCategory } from './retention/registry.js';

/** Counts rows of `table` whose `expires_at` has passed (dry runs). */
async function countExpired(ctx: Parameters<RetentionCategory['run']>[0], table: string, now: Date): Promise<number> {
  const r = await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)} where expires_at <= ${now}`.execute(ctx.db);
  return r.rows[0]?.n ?? 0;
}

/**
 * Short-lived state that the `sessions` job clears besides sessions: LTI login
 * state, nonces and tokens (ltijs lifetimes), pending IServ logins, and retries of
 * data-subject requests a crash interrupted.
 */
export const housekeeping: RetentionCategory[] = [
  {
    ruleId: 'SEC-03',
    name: 'lti-state',
    async run(ctx, { now, dryRun }) {
      const deleted = dryRun
        ? (await countExpired(ctx, 'lti_documents', now)) + (await countExpired(ctx, 'lti_registration_tokens', now))
        : await purgeExpiredLtiRecords({ db: ctx.db, clock: { now: () => now } });
      return [{ tenantId: null, cutoff: now, deleted }];
    },
  },
  {
    ruleId: 'SEC-03',
    name: 'iserv-logins',
    async run(ctx, { now, dryRun }) {
      const deleted = dryRun ? await countExpired(ctx, 'iserv_logins', now) : await purgeLogins(ctx.db, { now: () => now });
      return [{ tenantId: null, cutoff: now, deleted }];
    },
  },
  {
    ruleId: 'DSR-03',
    name: 'privacy-requests-retry',
    async run(ctx, { dryRun }) {
      if (dryRun) return [{ tenantId: null, cutoff: null, deleted: 0, details: { note: 'dry run: interrupted requests are not retried' } }];
      const { done, failed } = await processOpenRequests(ctx);
      return [{ tenantId: null, cutoff: null, deleted: 0, details: { finished: done, failed } }];
    },
  },
];
