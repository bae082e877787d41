/**
 * Retention for conferences:
 * - RET-04 (room secrets until the room closes): rooms whose BBB meeting vanished
 *   on the server (ended on its own) are ended here and their id, password and share
 *   links destroyed; Jitsi rooms cannot be asked, so they end after 24 h running;
 *   expired share links are deleted.
 * - RET-05 (recordings, only where VC-05 allowed them): for tenants that permit
 *   recording, list each BBB room's recordings by its meta room id and delete
 *   those older than `retention.recordingDays`; every deletion is recorded.
 */
import type { AppContext } from '../context.js';
import type { RetentionCategory, RetentionOutcome } from '../retention/registry.js';
import { DAY, HOUR } from '../shared/clock.js';
import { list as listTenants } from '../tenants/store.js';
import { loadBackend } from '../backends/store.js';
import { bbbClient } from './service.js';

const JITSI_MAX_RUNNING_MS = 24 * HOUR;

export const roomCleanup: RetentionCategory = {
  ruleId: 'RET-04',
  name: 'conference-rooms',
  async run(ctx: AppContext, { now, dryRun }) {
    const outcomes: RetentionOutcome[] = [];
    for (const tenant of await listTenants(ctx.db)) {
      let ended = 0;
      let errors = 0;
      const running = await ctx.db.selectFrom('rooms').selectAll().where('tenant_id', '=', tenant.id).where('state', '=', 'running').where('deleted_at', 'is', null).execute();
      for (const room of running) {
        const backend = await loadBackend(ctx.db, ctx.secrets, tenant.id, room.backend);
        let gone: boolean;
        if (!backend) gone = true;
        else if (backend.kind === 'bbb') {
          try {
            gone = room.meeting_id ? (await bbbClient(backend).getMeetingInfo(room.meeting_id)) === null : true;
          } catch {
            errors++; // backend unreachable: try again next run, never guess
            continue;
          }
        } else gone = !room.started_at || now.getTime() - room.started_at.getTime() > JITSI_MAX_RUNNING_MS;
        if (!gone) continue;
        ended++;
        if (dryRun) continue;
        await ctx.db.transaction().execute(async (trx) => {
          const locked = await trx.selectFrom('rooms').select(['meeting_id', 'state']).where('id', '=', room.id).forUpdate().executeTakeFirst();
          if (!locked || locked.state !== 'running' || locked.meeting_id !== room.meeting_id) return;
          await trx.updateTable('rooms').set({ state: 'ended', meeting_id: null, meeting_sealed: null, ended_at: now, updated_at: now }).where('id', '=', room.id).execute();
          await trx.deleteFrom('share_links').where('room_id', '=', room.id).execute();
        });
        ctx.audit.activity({ tenantId: tenant.id, contextId: room.context_id, action: 'room.cleanup', objectType: 'room', objectId: room.id, outcome: 'ok', ruleIds: ['RET-04', 'VC-10'] });
      }
      let links: number;
      if (dryRun) {
        const r = await ctx.db.selectFrom('share_links').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenant.id).where('expires_at', '<=', now).executeTakeFirst();
        links = Number(r?.n ?? 0);
      } else {
        const r = await ctx.db.deleteFrom('share_links').where('tenant_id', '=', tenant.id).where('expires_at', '<=', now).executeTakeFirst();
        links = Number(r.numDeletedRows);
      }
      outcomes.push({ tenantId: tenant.id, cutoff: now, deleted: ended + links, details: { roomsEnded: ended, shareLinksDeleted: links, backendErrors: errors } });
    }
    return outcomes;
  },
};

export const recordingCleanup: RetentionCategory = {
  ruleId: 'RET-05',
  name: 'conference-recordings',
  async run(ctx: AppContext, { now, dryRun }) {
    const outcomes: RetentionOutcome[] = [];
    for (const tenant of await listTenants(ctx.db)) {
      if (!tenant.settings.conference.recordingAllowed) continue; // VC-05: nothing was ever recorded
      const cutoff = new Date(now.getTime() - tenant.settings.retention.recordingDays * DAY);
      let deleted = 0;
      let errors = 0;
      const rooms = await ctx.db.selectFrom('rooms').select(['id', 'backend', 'context_id']).where('tenant_id', '=', tenant.id).execute();
      for (const room of rooms) {
        const backend = await loadBackend(ctx.db, ctx.secrets, tenant.id, room.backend);
        if (!backend || backend.kind !== 'bbb') continue;
        const client = bbbClient(backend);
        try {
          const due = (await client.getRecordings(room.id)).filter((r) => r.roomId === room.id && Number(r.startTime) > 0 && Number(r.startTime) < cutoff.getTime());
          if (!due.length) continue;
          deleted += due.length;
          if (dryRun) continue;
          await client.deleteRecordings(due.map((r) => r.recordID));
          await ctx.db
            .insertInto('recording_deletions')
            .values(due.map((r) => ({ tenant_id: tenant.id, room_id: room.id, backend: backend.name, record_id: r.recordID, recorded_at: new Date(Number(r.startTime)), deleted_at: now })))
            .execute();
          ctx.audit.activity({ tenantId: tenant.id, contextId: room.context_id, action: 'recording.delete', objectType: 'room', objectId: room.id, outcome: 'ok', ruleIds: ['RET-05'], details: { count: due.length } });
        } catch {
          errors++;
        }
      }
      outcomes.push({ tenantId: tenant.id, cutoff, deleted, details: { backendErrors: errors } });
    }
    return outcomes;
  },
};
