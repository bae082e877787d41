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
    // Keyset paging keeps memory flat for users with many entries. Entries have no
    // unique key and may share a timestamp, so a page ends before its last
    // timestamp and that timestamp's entries are read together (none lost at a page edge).
    const columns = ['at', 'action', 'object_type', 'object_id', 'outcome', 'rule_ids', 'context_id'] as const;
    const base = () => db.selectFrom('activity_log').select(columns).where('tenant_id', '=', subject.tenantId).where('actor_id', '=', subject.userId);
    let after: Date | null = null;
    for (;;) {
      let query = base().orderBy('at').limit(PAGE);
      if (after) query = query.where('at', '>', after);
      const rows = await query.execute();
      if (rows.length < PAGE) {
        for (const row of rows) yield { category: 'audit.activity', row };
        return;
      }
      const edge = rows[rows.length - 1]!.at;
      for (const row of rows) if (row.at.getTime() !== edge.getTime()) yield { category: 'audit.activity', row };
      for (const row of await base().where('at', '=', edge).execute()) yield { category: 'audit.activity', row };
      after = edge;
    }
  },
  async erase(trx, subject) {
    const result = await trx.deleteFrom('activity_log').where('tenant_id', '=', subject.tenantId).where('actor_id', '=', subject.userId).executeTakeFirst();
    return [{ category: 'audit.activity', deleted: Number(result.numDeletedRows), kept: 0 }];
  },
};
