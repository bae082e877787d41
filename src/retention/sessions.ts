import { purgeSessions, IDLE_TIMEOUT_MS } from '../session/index.js';
import type { RetentionCategory } from './registry.js';

/** Expired and idle browser sessions (SEC-03). */
export const sessionsCategory: RetentionCategory = {
  ruleId: 'SEC-03',
  name: 'sessions',
  async run(ctx, { now, dryRun }) {
    const cutoff = new Date(now.getTime() - IDLE_TIMEOUT_MS);
    if (dryRun) {
      const r = await ctx.db
        .selectFrom('sessions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where((eb) => eb.or([eb('expires_at', '<=', now), eb('last_seen_at', '<', cutoff)]))
        .executeTakeFirstOrThrow();
      return [{ tenantId: null, cutoff, deleted: Number(r.n) }];
    }
    return [{ tenantId: null, cutoff, deleted: await purgeSessions(ctx.db, { now: () => now }) }];
  },
};
