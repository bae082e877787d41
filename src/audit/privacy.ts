import type { PrivacyProvider } from '../privacy/registry.js';

const PAGE = 5000;

/** The activity log names users by pseudonymous id; access and admin logs hold no user ids. */
export const auditPrivacy: PrivacyProvider = {
  name: 'audit',
  describe: () => [
    {
      category: 'audit.activity',
      table: 'activity_log',
      userColumns: ['actor_id'],
      fields: ['at', 'action', 'object_type', 'object_id', 'outcome', 'rule_ids', 'context_id'],
      purpose: {
        de: 'Nachvollziehbarkeit: Starts, Beitritte, Entscheidungen und Einsichten (keine Verhaltens- oder Leistungskontrolle, RET-12)',
        en: 'Accountability: launches, joins, decisions and reads (no behaviour or performance monitoring, RET-12)',
      },
      retentionRule: 'RET-01',
    },
  ],
  async *export(db, subject) {
    // Keyset paging keeps memory flat for users with many entries.
    let after: Date | null = null;
    for (;;) {
      let query = db
        .selectFrom('activity_log')
        .select(['at', 'action', 'object_type', 'object_id', 'outcome', 'rule_ids', 'context_id'])
        .where('tenant_id', '=', subject.tenantId)
        .where('actor_id', '=', subject.userId)
        .orderBy('at')
        .limit(PAGE);
      if (after) query = query.where('at', '>', after);
      const rows = await query.execute();
      for (const row of rows) yield { category: 'audit.activity', row };
      if (rows.length < PAGE) return;
      after = rows[rows.length - 1]!.at;
    }
  },
  async erase(trx, subject) {
    const result = await trx.deleteFrom('activity_log').where('tenant_id', '=', subject.tenantId).where('actor_id', '=', subject.userId).executeTakeFirst();
    return [{ category: 'audit.activity', deleted: Number(result.numDeletedRows), kept: 0 }];
  },
};
