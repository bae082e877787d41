import { sql } from 'kysely';
import type { PrivacyProvider } from './registry.js';

/** The DSR module's own records about a person: their requests and Art. 18 restrictions. */
export const privacyPrivacy: PrivacyProvider = {
  name: 'privacy',
  describe: () => [
    {
      category: 'privacy.requests',
      table: 'privacy_requests',
      userColumns: ['user_id'],
      fields: ['type', 'status', 'filed_via', 'categories', 'message_sealed', 'dpo_comment', 'result', 'created_at', 'finished_at'],
      purpose: {
        de: 'Anträge auf Auskunft, Löschung, Einschränkung, Widerspruch und Berichtigung und ihre Bearbeitung (Rechenschaftspflicht)',
        en: 'Requests for access, erasure, restriction, objection and rectification, and how they were handled (accountability)',
      },
      retentionRule: 'DSR-05',
      legalBasis: 'Art. 5 (2), Art. 12 DSGVO; bis zum Ende des folgenden Schuljahres',
    },
    {
      category: 'privacy.restrictions',
      table: 'privacy_restrictions',
      userColumns: ['user_id'],
      fields: ['category', 'since', 'lifted_at'],
      purpose: { de: 'Einschränkung der Verarbeitung nach Art. 18 DSGVO', en: 'Restriction of processing (Art. 18 GDPR)' },
      retentionRule: 'DSR-03',
    },
  ],
  async *export(db, s) {
    const requests = await db
      .selectFrom('privacy_requests')
      .select(['id', 'type', 'status', 'filed_via', 'categories', 'dpo_comment', 'created_at', 'decided_at', 'ready_at', 'finished_at'])
      .where('tenant_id', '=', s.tenantId)
      .where('user_id', '=', s.userId)
      .orderBy('created_at')
      .execute();
    for (const row of requests) yield { category: 'privacy.requests', row };
    const restrictions = await db.selectFrom('privacy_restrictions').select(['category', 'since', 'lifted_at']).where('tenant_id', '=', s.tenantId).where('user_id', '=', s.userId).orderBy('since').execute();
    for (const row of restrictions) yield { category: 'privacy.restrictions', row };
  },
  async erase(trx, s) {
    // Archives and links go (they are copies of the data being erased); the request
    // records stay until the end of the following school year (accountability).
    const ids = trx.selectFrom('privacy_requests').select('id').where('tenant_id', '=', s.tenantId).where('user_id', '=', s.userId);
    await trx.deleteFrom('privacy_export_chunks').where('request_id', 'in', ids).execute();
    await trx.deleteFrom('privacy_download_links').where('request_id', 'in', ids).execute();
    await trx
      .updateTable('privacy_requests')
      .set({ status: 'expired', finished_at: sql<Date>`updated_at`, message_sealed: null })
      .where('tenant_id', '=', s.tenantId)
      .where('user_id', '=', s.userId)
      .where('status', '=', 'download_ready')
      .execute();
    const restrictions = await trx.deleteFrom('privacy_restrictions').where('tenant_id', '=', s.tenantId).where('user_id', '=', s.userId).executeTakeFirst();
    const kept = await trx
      .selectFrom('privacy_requests')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('tenant_id', '=', s.tenantId)
      .where('user_id', '=', s.userId)
      .executeTakeFirstOrThrow();
    return [
      { category: 'privacy.restrictions', deleted: Number(restrictions.numDeletedRows), kept: 0 },
      { category: 'privacy.requests', deleted: 0, kept: Number(kept.n), keptBecause: 'DSR-05' },
    ];
  },
};
