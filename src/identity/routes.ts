/**
 * LMS-facing identity REST: the LMS tells the bridge about its courses and
 * rosters (memberships with source 'lms'), and resolves its users to the
 * bridge's pseudonymous ids to act on their behalf (competency, privacy).
 * `lms` or `admin` scope; every change is one transaction with its admin-log entry.
 */
import { z } from 'zod';
import { actorOf } from '../auth/principal.js';
import type { Mount } from '../app.js';
import type { AppContext } from '../context.js';
import type { Api } from '../http/api.js';
import { ProblemError } from '../shared/errors.js';
import { setMembership, upsertContext, upsertUser } from './index.js';
import { APP_ROLES } from './roles.js';

const SCOPES = { scopes: ['lms', 'admin'] as const };
const slugParams = z.object({ slug: z.string() });
const issuer = z.string().trim().min(1).max(500).describe('The platform\'s issuer, as in its LTI launches (e.g. https://moodle.schule.de)');
const subject = z.string().trim().min(1).max(255).describe('The platform\'s user id (LTI `sub`)');

const contextBody = z
  .object({
    issuer,
    externalId: z.string().trim().min(1).max(255).describe('The platform\'s context id (LTI context.id)'),
    title: z.string().trim().max(300).default(''),
    type: z.string().trim().min(1).max(100).default('CourseSection'),
  })
  .strict();

const memberSchema = z
  .object({
    subject,
    issuer: issuer.optional().describe('Defaults to the context\'s issuer'),
    displayName: z.string().trim().min(1).max(200),
    roles: z.array(z.enum(APP_ROLES)).min(1).max(APP_ROLES.length),
  })
  .strict();

const rosterBody = z
  .object({
    members: z.array(memberSchema).max(5000),
    complete: z.boolean().default(false).describe('true: the list is the whole roster; memberships not named are removed'),
  })
  .strict()
  .refine((b) => new Set(b.members.map((m) => `${m.issuer ?? ''}\n${m.subject}`)).size === b.members.length, { message: 'jede Person nur einmal', path: ['members'] });

export function registerIdentityRoutes(api: Api, ctx: AppContext): void {
  const { db, clock, audit } = ctx;

  api.route({
    method: 'put',
    path: '/tenants/{slug}/contexts',
    summary: 'Create or update a context (course or group) by issuer + externalId',
    tag: 'identity',
    access: SCOPES,
    params: slugParams,
    body: contextBody,
    response: z.object({ id: z.uuid(), issuer: z.string(), externalId: z.string(), title: z.string(), type: z.string(), created: z.boolean() }),
    async handler({ tenant, body, principal }) {
      return db.transaction().execute(async (trx) => {
        const before = await trx.selectFrom('contexts').select(['id', 'deleted_at']).where('tenant_id', '=', tenant.id).where('issuer', '=', body.issuer).where('external_id', '=', body.externalId).executeTakeFirst();
        if (before?.deleted_at) throw new ProblemError(409, 'conflict', 'Dieser Kurs ist gelöscht; er kann nur über die Wiederherstellung zurückgeholt werden (RET-06).', { ruleIds: ['RET-06'] });
        const id = await upsertContext(trx, clock, { tenantId: tenant.id, source: 'lms', issuer: body.issuer, externalId: body.externalId, title: body.title, type: body.type });
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: before ? 'context.update' : 'context.create', objectType: 'context', objectId: id });
        return { id, issuer: body.issuer, externalId: body.externalId, title: body.title, type: body.type, created: !before };
      });
    },
  });

  api.route({
    method: 'put',
    path: '/tenants/{slug}/contexts/{contextId}/members',
    summary: 'Roster push from the LMS: users and their roles in the context (memberships with source "lms")',
    tag: 'identity',
    access: SCOPES,
    params: slugParams.extend({ contextId: z.uuid() }),
    body: rosterBody,
    response: z.object({ members: z.array(z.object({ subject: z.string(), issuer: z.string(), userId: z.uuid(), roles: z.array(z.string()) })), removed: z.number() }),
    async handler({ tenant, params, body, principal }) {
      return db.transaction().execute(async (trx) => {
        const context = await trx.selectFrom('contexts').select(['id', 'issuer']).where('id', '=', params.contextId).where('tenant_id', '=', tenant.id).where('deleted_at', 'is', null).executeTakeFirst();
        if (!context) throw new ProblemError(404, 'not-found', 'Diesen Kurs bzw. diese Gruppe gibt es in dieser Schule nicht.', { ruleIds: ['ACC-04'] });
        const members = [];
        for (const m of body.members) {
          const memberIssuer = m.issuer ?? context.issuer;
          const userId = await upsertUser(trx, clock, { tenantId: tenant.id, source: 'lms', issuer: memberIssuer, subject: m.subject, displayName: m.displayName });
          await setMembership(trx, clock, { tenantId: tenant.id, contextId: context.id, userId, roles: [...new Set(m.roles)], source: 'lms' });
          members.push({ subject: m.subject, issuer: memberIssuer, userId, roles: [...new Set(m.roles)] });
        }
        let removed = 0;
        if (body.complete) {
          let removal = trx.deleteFrom('memberships').where('tenant_id', '=', tenant.id).where('context_id', '=', context.id);
          if (members.length) removal = removal.where('user_id', 'not in', members.map((m) => m.userId));
          removed = Number((await removal.executeTakeFirst()).numDeletedRows);
        }
        await audit.admin(trx, {
          tenantId: tenant.id,
          actor: actorOf(principal),
          action: 'context.roster',
          objectType: 'context',
          objectId: context.id,
          details: { members: members.length, removed, complete: body.complete },
        });
        return { members, removed };
      });
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/users',
    summary: 'Resolve a platform user (issuer + subject) to the bridge\'s pseudonymous user id',
    tag: 'identity',
    access: SCOPES,
    params: slugParams,
    query: z.object({ issuer, subject }).strict(),
    response: z.object({ id: z.uuid(), issuer: z.string(), subject: z.string(), source: z.string() }),
    async handler({ tenant, query, principal }) {
      const user = await db
        .selectFrom('users')
        .select(['id', 'issuer', 'subject', 'source'])
        .where('tenant_id', '=', tenant.id)
        .where('issuer', '=', query.issuer)
        .where('subject', '=', query.subject)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
      await audit.admin(db, { tenantId: tenant.id, actor: actorOf(principal), action: 'user.lookup', objectType: 'user', objectId: user?.id ?? null, details: { found: Boolean(user) } });
      if (!user) throw new ProblemError(404, 'not-found', 'Keine Person mit diesem Herausgeber und dieser Kennung in dieser Schule.', { ruleIds: ['ACC-04'] });
      return user;
    },
  });
}

export const identityRoutesMount: Mount = (_app, api, ctx) => registerIdentityRoutes(api, ctx);
