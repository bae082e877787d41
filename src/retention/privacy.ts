import type { PrivacyProvider } from '../privacy/registry.js';

/** A four-eyes request may name a user as its scope (ACC-03); erased with the user. */
export const retentionPrivacy: PrivacyProvider = {
  name: 'retention',
  describe: () => [
    {
      category: 'retention.log_access_requests',
      table: 'log_access_requests',
      userColumns: ['scope_id'],
      fields: ['reason', 'period_from', 'period_to', 'created_at', 'approved_at'],
      purpose: {
        de: 'Vier-Augen-Einsicht in Protokolle: Anlass, Zeitraum, Freigabe (ACC-03)',
        en: 'Four-eyes access to activity logs: reason, period, approval (ACC-03)',
      },
      retentionRule: 'RET-03',
    },
  ],
  async *export(db, subject) {
    const rows = await db
      .selectFrom('log_access_requests')
      .select(['reason', 'period_from', 'period_to', 'created_at', 'approved_at'])
      .where('tenant_id', '=', subject.tenantId)
      .where('scope_type', '=', 'user')
      .where('scope_id', '=', subject.userId)
      .execute();
    for (const row of rows) yield { category: 'retention.log_access_requests', row };
  },
  async erase(trx, subject) {
    const r = await trx
      .deleteFrom('log_access_requests')
      .where('tenant_id', '=', subject.tenantId)
      .where('scope_type', '=', 'user')
      .where('scope_id', '=', subject.userId)
      .executeTakeFirst();
    return [{ category: 'retention.log_access_requests', deleted: Number(r.numDeletedRows), kept: 0 }];
  },
};
