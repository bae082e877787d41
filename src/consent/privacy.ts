import type { PrivacyProvider } from '../privacy/registry.js';

export const consentPrivacy: PrivacyProvider = {
  name: 'consent',
  describe: () => [
    {
      category: 'consent.consents',
      table: 'consents',
      userColumns: ['user_id'],
      fields: ['scope', 'given_at', 'withdrawn_at', 'source'],
      purpose: { de: 'Nachweis der Einwilligung in das Videomodul bzw. Peer-Treffen (VC-07, VC-09)', en: 'Proof of consent to the video module or peer meetings (VC-07, VC-09)' },
      retentionRule: 'RET-07',
      legalBasis: 'Art. 6 (1) a, Art. 7 (1) DSGVO',
    },
    {
      category: 'consent.objections',
      table: 'objections',
      userColumns: ['user_id'],
      fields: ['scope', 'recorded_at', 'lifted_at', 'source'],
      purpose: { de: 'Widerspruch gegen die Videoübertragung (VC-06, Art. 21 DSGVO)', en: 'Objection to video (VC-06, Art. 21 GDPR)' },
      retentionRule: 'RET-07',
    },
    {
      category: 'consent.usage_rule_acceptances',
      table: 'usage_rule_acceptances',
      userColumns: ['user_id'],
      fields: ['version', 'accepted_at'],
      purpose: { de: 'Nachweis, dass die Nutzungsregeln für Videokonferenzen bestätigt wurden (VC-13)', en: 'Proof that the video-conference usage rules were accepted (VC-13)' },
      retentionRule: 'RET-07',
    },
  ],
  async *export(db, s) {
    for (const row of await db.selectFrom('consents').select(['scope', 'given_at', 'withdrawn_at', 'source']).where('tenant_id', '=', s.tenantId).where('user_id', '=', s.userId).execute()) {
      yield { category: 'consent.consents', row };
    }
    for (const row of await db.selectFrom('objections').select(['scope', 'recorded_at', 'lifted_at', 'source']).where('tenant_id', '=', s.tenantId).where('user_id', '=', s.userId).execute()) {
      yield { category: 'consent.objections', row };
    }
    for (const row of await db.selectFrom('usage_rule_acceptances').select(['version', 'accepted_at']).where('tenant_id', '=', s.tenantId).where('user_id', '=', s.userId).execute()) {
      yield { category: 'consent.usage_rule_acceptances', row };
    }
  },
  async erase(trx, s) {
    const c = await trx.deleteFrom('consents').where('tenant_id', '=', s.tenantId).where('user_id', '=', s.userId).executeTakeFirst();
    const o = await trx.deleteFrom('objections').where('tenant_id', '=', s.tenantId).where('user_id', '=', s.userId).executeTakeFirst();
    const a = await trx.deleteFrom('usage_rule_acceptances').where('tenant_id', '=', s.tenantId).where('user_id', '=', s.userId).executeTakeFirst();
    return [
      { category: 'consent.usage_rule_acceptances', deleted: Number(a.numDeletedRows), kept: 0 },
      { category: 'consent.consents', deleted: Number(c.numDeletedRows), kept: 0 },
      { category: 'consent.objections', deleted: Number(o.numDeletedRows), kept: 0 },
    ];
  },
};
