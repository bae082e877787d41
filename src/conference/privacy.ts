import type { PrivacyProvider } from '../privacy/registry.js';

/**
 * Rooms name their creator (rooms.created_by) and share links their creator;
 * nothing else about people is stored by the conference module (joins go to
 * the activity log, meeting contents stay on the backend and die with the room).
 */
export const conferencePrivacy: PrivacyProvider = {
  name: 'conference',
  describe: () => [
    {
      category: 'conference.rooms',
      table: 'rooms',
      userColumns: ['created_by'],
      fields: ['title', 'category', 'purpose', 'created_at'],
      purpose: { de: 'Von der Person angelegte Konferenzräume (VC-03, VC-09)', en: 'Conference rooms the person created (VC-03, VC-09)' },
      retentionRule: 'RET-07',
    },
    {
      category: 'conference.share_links',
      table: 'share_links',
      userColumns: ['created_by'],
      fields: ['room_id', 'expires_at', 'created_at'],
      purpose: { de: 'Von der Person erstellte Freigabelinks (VC-15); sie enden mit dem Raum', en: 'Share links the person created (VC-15); they end with the room' },
      retentionRule: 'RET-04',
    },
  ],
  async *export(db, s) {
    for (const row of await db.selectFrom('rooms').select(['id', 'title', 'category', 'purpose', 'created_at']).where('tenant_id', '=', s.tenantId).where('created_by', '=', s.userId).execute()) {
      yield { category: 'conference.rooms', row };
    }
    for (const row of await db.selectFrom('share_links').select(['room_id', 'expires_at', 'created_at']).where('tenant_id', '=', s.tenantId).where('created_by', '=', s.userId).execute()) {
      yield { category: 'conference.share_links', row };
    }
  },
  async erase(trx, s) {
    // The rooms belong to the course: they stay, without the link to the person.
    const r = await trx.updateTable('rooms').set({ created_by: null }).where('tenant_id', '=', s.tenantId).where('created_by', '=', s.userId).executeTakeFirst();
    const l = await trx.deleteFrom('share_links').where('tenant_id', '=', s.tenantId).where('created_by', '=', s.userId).executeTakeFirst();
    return [
      { category: 'conference.rooms', deleted: Number(r.numUpdatedRows), kept: 0 },
      { category: 'conference.share_links', deleted: Number(l.numDeletedRows), kept: 0 },
    ];
  },
};
