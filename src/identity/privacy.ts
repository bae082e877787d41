import type { PrivacyProvider } from '../privacy/registry.js';

export const identityPrivacy: PrivacyProvider = {
  name: 'identity',
  describe: () => [
    {
      category: 'identity.users',
      table: 'users',
      userColumns: ['id'],
      fields: ['subject', 'issuer', 'display_name', 'email', 'created_at', 'last_seen_at', 'left_at'],
      purpose: { de: 'Anmeldung über Moodle oder IServ; Anzeigename in Konferenzen', en: 'Sign-in through Moodle or IServ; display name in conferences' },
      retentionRule: 'RET-07',
      legalBasis: 'Art. 6 (1) e DSGVO i. V. m. Schulgesetz',
    },
    {
      category: 'identity.memberships',
      table: 'memberships',
      userColumns: ['user_id'],
      fields: ['context_id', 'roles', 'source', 'updated_at'],
      purpose: { de: 'Rollen im Kurs oder in der Gruppe (wer Räume starten, wer Raster sehen darf)', en: 'Roles in a course or group (who may start rooms, see grids)' },
      retentionRule: 'RET-07',
    },
    {
      category: 'identity.sessions',
      table: 'sessions',
      userColumns: ['user_id'],
      fields: ['created_at', 'last_seen_at', 'expires_at', 'roles'],
      purpose: { de: 'Angemeldet bleiben während der Nutzung (nur Sitzungs-Cookie)', en: 'Staying signed in while using the tool (session cookie only)' },
      retentionRule: 'SEC-03',
    },
  ],
  async *export(db, subject) {
    const user = await db.selectFrom('users').select(['subject', 'issuer', 'source', 'display_name', 'email', 'created_at', 'last_seen_at', 'left_at']).where('id', '=', subject.userId).where('tenant_id', '=', subject.tenantId).executeTakeFirst();
    if (user) yield { category: 'identity.users', row: user };
    const memberships = await db
      .selectFrom('memberships')
      .innerJoin('contexts', 'contexts.id', 'memberships.context_id')
      .select(['contexts.title as context', 'contexts.external_id as contextId', 'memberships.roles', 'memberships.source', 'memberships.updated_at'])
      .where('memberships.user_id', '=', subject.userId)
      .where('memberships.tenant_id', '=', subject.tenantId)
      .execute();
    for (const row of memberships) yield { category: 'identity.memberships', row };
    const sessions = await db.selectFrom('sessions').select(['created_at', 'last_seen_at', 'expires_at', 'roles']).where('user_id', '=', subject.userId).where('tenant_id', '=', subject.tenantId).execute();
    for (const row of sessions) yield { category: 'identity.sessions', row };
  },
  async erase(trx, subject) {
    const sessions = await trx.deleteFrom('sessions').where('user_id', '=', subject.userId).where('tenant_id', '=', subject.tenantId).executeTakeFirst();
    const memberships = await trx.deleteFrom('memberships').where('user_id', '=', subject.userId).where('tenant_id', '=', subject.tenantId).executeTakeFirst();
    const users = await trx.deleteFrom('users').where('id', '=', subject.userId).where('tenant_id', '=', subject.tenantId).executeTakeFirst();
    return [
      { category: 'identity.sessions', deleted: Number(sessions.numDeletedRows), kept: 0 },
      { category: 'identity.memberships', deleted: Number(memberships.numDeletedRows), kept: 0 },
      { category: 'identity.users', deleted: Number(users.numDeletedRows), kept: 0 },
    ];
  },
};
