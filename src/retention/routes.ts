import { z } from 'zod';
import type { Mount } from '../app.js';
import { actorOf, type Principal } from '../auth/principal.js';
import type { AppContext } from '../context.js';
import type { Api } from '../http/api.js';
import { ProblemError } from '../shared/errors.js';
import { findById } from '../tenants/store.js';
import { answerConfirmation, listConfirmations, type ConfirmationRow } from './confirmations.js';
import { erasureDueAt } from './left-school.js';
import { approveLogAccess, listLogAccess, readApprovedEntries, requestLogAccess, type LogAccessRow } from './log-access.js';
import { listRuns } from './protocol.js';
import { restorableUntil, restore, softDelete, type PurgatoryObject } from './purgatory.js';

const slug = z.string().min(1).max(63);
const uuid = z.uuid({ message: 'keine gültige Kennung (UUID)' });

const runOut = z.object({
  id: z.string(),
  job: z.string(),
  ruleId: z.string().nullable(),
  category: z.string().nullable(),
  tenantId: z.string().nullable(),
  cutoff: z.string().nullable(),
  deleted: z.number(),
  details: z.record(z.string(), z.union([z.number(), z.string()])),
  startedAt: z.string(),
  durationMs: z.number(),
  outcome: z.string(),
  error: z.string().nullable(),
});

const confirmationOut = z.object({
  id: z.string(),
  schoolYear: z.string(),
  schoolYearEnd: z.string(),
  dueAt: z.string(),
  status: z.enum(['open', 'answered']),
  answer: z.enum(['done', 'not-done']).nullable(),
  answeredAt: z.string().nullable(),
  answeredBy: z.string().nullable(),
  note: z.string().nullable(),
});

const logAccessOut = z.object({
  id: z.string(),
  reason: z.string(),
  scope: z.object({ type: z.enum(['user', 'context']), id: z.string() }),
  from: z.string(),
  to: z.string(),
  requestedBy: z.string(),
  createdAt: z.string(),
  status: z.enum(['pending', 'approved', 'expired']),
  approvedBy: z.string().nullable(),
  approvedAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
});

const iso = (d: Date | null) => d?.toISOString() ?? null;

function presentConfirmation(r: ConfirmationRow) {
  return {
    id: r.id,
    schoolYear: r.school_year,
    schoolYearEnd: r.school_year_end.toISOString(),
    dueAt: r.due_at.toISOString(),
    status: r.answered_at ? ('answered' as const) : ('open' as const),
    answer: r.answer as 'done' | 'not-done' | null,
    answeredAt: iso(r.answered_at),
    answeredBy: r.answered_by,
    note: r.note,
  };
}

function presentLogAccess(r: LogAccessRow, now: Date) {
  return {
    id: r.id,
    reason: r.reason,
    scope: { type: r.scope_type as 'user' | 'context', id: r.scope_id },
    from: r.period_from.toISOString(),
    to: r.period_to.toISOString(),
    requestedBy: `token:${r.requested_by}`,
    createdAt: r.created_at.toISOString(),
    status: !r.approved_at ? ('pending' as const) : r.expires_at && now.getTime() >= r.expires_at.getTime() ? ('expired' as const) : ('approved' as const),
    approvedBy: r.approved_by ? `token:${r.approved_by}` : null,
    approvedAt: iso(r.approved_at),
    expiresAt: iso(r.expires_at),
  };
}

/** The admin's token id: four-eyes decisions are between two personal admin tokens (ACC-05). */
function adminTokenId(principal: Principal): string {
  if (principal.kind !== 'token') throw new ProblemError(403, 'forbidden', 'Nur mit dem persönlichen Token eines Admins der Schule (ACC-03).', { ruleIds: ['ACC-03'] });
  return principal.tokenId;
}

export function registerRetentionRoutes(api: Api, ctx: AppContext): void {
  const { db, clock, audit } = ctx;

  api.route({
    method: 'get',
    path: '/retention/runs',
    summary: 'The retention protocol: what each job deleted, when, with which cutoff (operator: all; tenant admin: own tenant)',
    tag: 'retention',
    access: { operator: true, scopes: ['admin'] },
    query: z.object({ job: z.string().max(60).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
    response: z.object({ items: z.array(runOut) }),
    async handler({ principal, query }) {
      const rows = await listRuns(db, { limit: query.limit, ...(query.job ? { job: query.job } : {}), ...(principal.kind === 'token' ? { tenantId: principal.tenantId } : {}) });
      return {
        items: rows.map((r) => ({
          id: r.id,
          job: r.job,
          ruleId: r.rule_id,
          category: r.category,
          tenantId: r.tenant_id,
          cutoff: iso(r.cutoff),
          deleted: Number(r.deleted),
          details: r.details,
          startedAt: r.started_at.toISOString(),
          durationMs: Number(r.duration_ms),
          outcome: r.outcome,
          error: r.error,
        })),
      };
    },
  });

  // RET-07: the LMS reports a leaving date.
  api.route({
    method: 'put',
    path: '/tenants/{slug}/users/{userId}/leaving',
    summary: 'Report (or withdraw, with null) the date a user left school (RET-07)',
    tag: 'retention',
    access: { scopes: ['lms', 'admin'] },
    params: z.object({ slug, userId: uuid }),
    body: z.object({ leftAt: z.iso.datetime({ offset: true }).nullable() }).strict(),
    response: z.object({ userId: z.string(), leftAt: z.string().nullable(), erasureDueAt: z.string().nullable(), variant: z.string() }),
    async handler({ tenant: ref, params, body, principal }) {
      const tenant = (await findById(db, ref.id))!;
      const leftAt = body.leftAt ? new Date(body.leftAt) : null;
      await db.transaction().execute(async (trx) => {
        const updated = await trx.updateTable('users').set({ left_at: leftAt }).where('tenant_id', '=', tenant.id).where('id', '=', params.userId).executeTakeFirst();
        if (!Number(updated.numUpdatedRows)) throw new ProblemError(404, 'not-found', 'Keine solche Person in dieser Schule.', { ruleIds: ['ACC-04'] });
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: leftAt ? 'user.leaving.set' : 'user.leaving.clear', objectType: 'user', objectId: params.userId, ruleIds: ['RET-07'] });
      });
      return {
        userId: params.userId,
        leftAt: iso(leftAt),
        erasureDueAt: leftAt ? erasureDueAt(leftAt, tenant).toISOString() : null,
        variant: tenant.settings.retention.leftSchool,
      };
    },
  });

  // RET-06: purgatory for users and contexts.
  for (const type of ['user', 'context'] as const satisfies readonly PurgatoryObject[]) {
    const plural = type === 'user' ? 'users' : 'contexts';
    const idParam = type === 'user' ? 'userId' : 'contextId';
    const params = z.object({ slug, [idParam]: uuid }) as unknown as z.ZodType<Record<string, string>>;
    api.route({
      method: 'delete',
      path: `/tenants/{slug}/${plural}/{${idParam}}`,
      summary: `Soft-delete a ${type}; restorable within the tenant's purgatory window (RET-06)`,
      tag: 'retention',
      access: { scopes: ['admin'] },
      params,
      status: 204,
      errors: [409],
      async handler({ tenant, params: p, principal }) {
        await db.transaction().execute(async (trx) => {
          await softDelete(trx, clock.now(), tenant.id, type, p[idParam]!);
          await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: `${type}.delete`, objectType: type, objectId: p[idParam]!, ruleIds: ['RET-06'] });
        });
      },
    });
    api.route({
      method: 'post',
      path: `/tenants/{slug}/${plural}/{${idParam}}/restore`,
      summary: `Restore a soft-deleted ${type} within the purgatory window (RET-06)`,
      tag: 'retention',
      access: { scopes: ['admin'] },
      params,
      response: z.object({ id: z.string(), restored: z.literal(true) }),
      errors: [409, 410],
      async handler({ tenant: ref, params: p, principal }) {
        const tenant = (await findById(db, ref.id))!;
        await db.transaction().execute(async (trx) => {
          await restore(trx, clock.now(), tenant, type, p[idParam]!);
          await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: `${type}.restore`, objectType: type, objectId: p[idParam]!, ruleIds: ['RET-06'] });
        });
        return { id: p[idParam]!, restored: true as const };
      },
    });
  }

  api.route({
    method: 'get',
    path: '/tenants/{slug}/retention/deleted',
    summary: 'Users and contexts in the purgatory, with the end of their window (RET-06)',
    tag: 'retention',
    access: { scopes: ['admin'] },
    params: z.object({ slug }),
    response: z.object({ items: z.array(z.object({ type: z.enum(['user', 'context']), id: z.string(), deletedAt: z.string(), restorableUntil: z.string() })) }),
    async handler({ tenant: ref }) {
      const tenant = (await findById(db, ref.id))!;
      const users = await db.selectFrom('users').select(['id', 'deleted_at']).where('tenant_id', '=', tenant.id).where('deleted_at', 'is not', null).execute();
      const contexts = await db.selectFrom('contexts').select(['id', 'deleted_at']).where('tenant_id', '=', tenant.id).where('deleted_at', 'is not', null).execute();
      const item = (type: 'user' | 'context') => (r: { id: string; deleted_at: Date | null }) => ({
        type,
        id: r.id,
        deletedAt: r.deleted_at!.toISOString(),
        restorableUntil: restorableUntil(r.deleted_at!, tenant).toISOString(),
      });
      return { items: [...users.map(item('user')), ...contexts.map(item('context'))] };
    },
  });

  // RET-11
  api.route({
    method: 'get',
    path: '/tenants/{slug}/retention/confirmations',
    summary: "School-year-end confirmations for the tenant's admins (RET-11); open ones stay until answered",
    tag: 'retention',
    access: { scopes: ['admin'] },
    params: z.object({ slug }),
    response: z.object({ items: z.array(confirmationOut) }),
    async handler({ tenant }) {
      return { items: (await listConfirmations(db, tenant.id)).map(presentConfirmation) };
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/retention/confirmations/{id}',
    summary: 'Answer a school-year-end confirmation (RET-11); the answer is kept and audited',
    tag: 'retention',
    access: { scopes: ['admin'] },
    params: z.object({ slug, id: uuid }),
    body: z.object({ answer: z.enum(['done', 'not-done']), note: z.string().trim().max(500).optional() }).strict(),
    response: confirmationOut,
    errors: [409],
    async handler({ tenant, params, body, principal }) {
      return db.transaction().execute(async (trx) => {
        const row = await answerConfirmation(trx, tenant.id, params.id, { answer: body.answer, note: body.note || null, by: actorOf(principal), at: clock.now() });
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'retention.confirmation.answer', objectType: 'retention_confirmation', objectId: row.id, ruleIds: ['RET-11'], details: { answer: body.answer, schoolYear: row.school_year } });
        return presentConfirmation(row);
      });
    },
  });

  // ACC-03, RET-12: four-eyes access to the activity log. No aggregate statistics are offered.
  api.route({
    method: 'post',
    path: '/tenants/{slug}/retention/log-access',
    summary: 'Ask to read the activity log of one user or context for a period, with a reason (ACC-03); needs a second admin',
    tag: 'retention',
    access: { scopes: ['admin'] },
    params: z.object({ slug }),
    body: z
      .object({
        reason: z.string().trim().min(10, { message: 'Bitte den Anlass nennen (mindestens 10 Zeichen, ACC-03)' }).max(1000),
        scope: z.object({ type: z.enum(['user', 'context']), id: uuid }).strict(),
        from: z.iso.datetime({ offset: true }),
        to: z.iso.datetime({ offset: true }),
      })
      .strict()
      .refine((b) => new Date(b.from) < new Date(b.to), { message: '„from“ muss vor „to“ liegen', path: ['to'] }),
    status: 201,
    response: logAccessOut,
    async handler({ tenant, body, principal }) {
      const requester = adminTokenId(principal);
      const now = clock.now();
      return db.transaction().execute(async (trx) => {
        const row = await requestLogAccess(trx, {
          tenantId: tenant.id,
          requestedBy: requester,
          reason: body.reason,
          scopeType: body.scope.type,
          scopeId: body.scope.id,
          from: new Date(body.from),
          to: new Date(body.to),
          now,
        });
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'log_access.request', objectType: 'log_access_request', objectId: row.id, ruleIds: ['ACC-03', 'RET-12'] });
        return presentLogAccess(row, now);
      });
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/retention/log-access',
    summary: 'Four-eyes requests of the tenant (ACC-03)',
    tag: 'retention',
    access: { scopes: ['admin'] },
    params: z.object({ slug }),
    response: z.object({ items: z.array(logAccessOut) }),
    async handler({ tenant }) {
      const now = clock.now();
      return { items: (await listLogAccess(db, tenant.id)).map((r) => presentLogAccess(r, now)) };
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/retention/log-access/{id}/approve',
    summary: 'Approve a request as a second, different admin; valid for 24 hours (ACC-03)',
    tag: 'retention',
    access: { scopes: ['admin'] },
    params: z.object({ slug, id: uuid }),
    response: logAccessOut,
    errors: [409],
    async handler({ tenant, params, principal }) {
      const approver = adminTokenId(principal);
      const now = clock.now();
      return db.transaction().execute(async (trx) => {
        const row = await approveLogAccess(trx, tenant.id, params.id, approver, now);
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'log_access.approve', objectType: 'log_access_request', objectId: row.id, ruleIds: ['ACC-03'] });
        return presentLogAccess(row, now);
      });
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/retention/log-access/{id}/entries',
    summary: 'Read the approved activity-log entries (requester only, while approved); every read is itself logged (ACC-03, RET-12)',
    tag: 'retention',
    access: { scopes: ['admin'] },
    params: z.object({ slug, id: uuid }),
    query: z.object({ after: z.iso.datetime({ offset: true }).optional().describe('page on after this instant') }),
    response: z.object({
      items: z.array(
        z.object({
          at: z.string(),
          actorId: z.string().nullable(),
          contextId: z.string().nullable(),
          action: z.string(),
          objectType: z.string().nullable(),
          objectId: z.string().nullable(),
          outcome: z.string(),
          ruleIds: z.array(z.string()),
        }),
      ),
      next: z.string().nullable(),
    }),
    async handler({ tenant, params, query, principal }) {
      const reader = adminTokenId(principal);
      const now = clock.now();
      try {
        return await db.transaction().execute(async (trx) => {
          const { entries } = await readApprovedEntries(trx, tenant.id, params.id, reader, now, query.after ? new Date(query.after) : null);
          await audit.admin(trx, {
            tenantId: tenant.id,
            actor: actorOf(principal),
            action: 'activity_log.read',
            objectType: 'log_access_request',
            objectId: params.id,
            ruleIds: ['ACC-03', 'RET-12'],
            details: { entries: entries.length },
          });
          return {
            items: entries.map((e) => ({ ...e, at: e.at.toISOString() })),
            next: entries.length ? entries[entries.length - 1]!.at.toISOString() : null,
          };
        });
      } catch (error) {
        // Refused reads are logged too.
        if (error instanceof ProblemError) {
          await db.transaction().execute((trx) =>
            audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'activity_log.read.denied', objectType: 'log_access_request', objectId: params.id, ruleIds: ['ACC-03'] }),
          );
        }
        throw error;
      }
    },
  });
}

export const retentionMount: Mount = (_app, api, ctx) => registerRetentionRoutes(api, ctx);
