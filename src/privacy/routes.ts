import type { Express } from 'express';
import { sendArchive } from './download.js';
import { z } from 'zod';
import type { Principal } from '../auth/principal.js';
import type { AppContext } from '../context.js';
import type { Api, TenantRef } from '../http/api.js';
import { requestLocale } from '../http/locale.js';
import { toTenant } from '../tenants/store.js';
import { layout } from '../web/html.js';
import { registerPages } from './pages.js';
import { REQUEST_STATUSES, REQUEST_TYPES } from './policy.js';
import { processingRegister, registerHtml } from './register.js';
import {
  cancelRequest,
  createDownloadLink,
  decideRequest,
  fileRequest,
  getRequest,
  liftRestriction,
  listRequests,
  present,
  processRequest,
  readMessage,
  useDownloadLink,
  type Actor,
} from './requests.js';

const slug = z.string().min(1).max(63);
const idParams = z.object({ slug, id: z.uuid() });

const requestOut = z.object({
  id: z.uuid(),
  userId: z.uuid(),
  type: z.enum(REQUEST_TYPES),
  status: z.enum(REQUEST_STATUSES),
  filedVia: z.enum(['self', 'lms', 'dpo']),
  categories: z.array(z.string()),
  hasMessage: z.boolean(),
  dpoComment: z.string().nullable(),
  result: z.record(z.string(), z.unknown()).nullable().describe('Erasure: per category deleted/kept with the rule id; export: row counts'),
  error: z.string().nullable().describe('Last processing error; the request stays `processing` until a re-run succeeds'),
  createdAt: z.string(),
  updatedAt: z.string(),
  decidedAt: z.string().nullable(),
  readyAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  downloadUntil: z.string().nullable().describe('RET-10: when the archive will be deleted'),
});

const fileBody = z
  .object({
    userId: z.uuid().describe("The data subject (the bridge's pseudonymous user id, see GET /tenants/{slug}/users)"),
    type: z.enum(REQUEST_TYPES),
    categories: z.array(z.string().min(1).max(100)).max(50).optional().describe("Restriction: categories from the register, a module name, or '*'"),
    message: z.string().max(2000).optional().describe('Rectification / question: what is wrong or what is asked (sealed, deleted when finished)'),
  })
  .strict();

const decisionBody = z.object({ comment: z.string().max(2000).optional().describe('Shown to the requester; required for a rejection') }).strict();

export function tokenActor(principal: Principal, tenant: TenantRef): Actor {
  if (principal.kind !== 'token') throw new Error('tenant routes take tenant tokens');
  return { kind: 'token', tenantId: tenant.id, tokenId: principal.tokenId, scopes: principal.scopes };
}

async function exportDays(ctx: AppContext, tenantId: string): Promise<number> {
  const row = await ctx.db.selectFrom('tenants').selectAll().where('id', '=', tenantId).executeTakeFirstOrThrow();
  return toTenant(row).settings.retention.exportFileDays;
}

export function registerPrivacyRoutes(app: Express, api: Api, ctx: AppContext): void {
  const tag = 'privacy';

  api.route({
    method: 'post',
    path: '/tenants/{slug}/privacy/requests',
    summary: 'File a data-subject request for a user of this tenant (LMS on the user’s behalf, or the DPO) (DSR-01, DSR-03, DSR-04)',
    tag,
    access: { scopes: ['lms', 'dpo'] },
    params: z.object({ slug }),
    body: fileBody,
    status: 201,
    response: requestOut,
    errors: [404, 409],
    async handler({ principal, tenant, body, res }) {
      const view = await fileRequest(ctx, tokenActor(principal, tenant), body);
      res.location(`/api/v1/tenants/${tenant.slug}/privacy/requests/${view.id}`);
      return view;
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/privacy/requests',
    summary: 'List requests (newest first), optionally for one user or in given statuses',
    tag,
    access: { scopes: ['lms', 'dpo'] },
    params: z.object({ slug }),
    query: z.object({ userId: z.uuid().optional(), status: z.string().optional().describe('comma-separated statuses') }),
    response: z.object({ items: z.array(requestOut) }),
    async handler({ tenant, query }) {
      const status = query.status ? z.array(z.enum(REQUEST_STATUSES)).parse(query.status.split(',')) : undefined;
      const days = await exportDays(ctx, tenant.id);
      return { items: (await listRequests(ctx.db, tenant.id, { ...(query.userId ? { userId: query.userId } : {}), ...(status ? { status } : {}) })).map((r) => present(r, days)) };
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/privacy/requests/{id}',
    summary: 'Read a request: status, the DPO’s comment, the result',
    tag,
    access: { scopes: ['lms', 'dpo'] },
    params: idParams,
    response: requestOut,
    async handler({ tenant, params }) {
      return present(await getRequest(ctx.db, tenant.id, params.id), await exportDays(ctx, tenant.id));
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/privacy/requests/{id}/message',
    summary: 'The DPO reads the free text of an open rectification or question',
    tag,
    access: { scopes: ['dpo'] },
    params: idParams,
    response: z.object({ message: z.string().nullable() }),
    async handler({ principal, tenant, params }) {
      return { message: await readMessage(ctx, tokenActor(principal, tenant), params.id) };
    },
  });

  for (const decision of ['approve', 'reject'] as const) {
    api.route({
      method: 'post',
      path: `/tenants/{slug}/privacy/requests/{id}/${decision}`,
      summary: decision === 'approve' ? 'The DPO approves; the request is carried out (DSR-05)' : 'The DPO rejects, with a comment for the requester (DSR-05)',
      tag,
      access: { scopes: ['dpo'] },
      params: idParams,
      body: decisionBody,
      response: requestOut,
      errors: [409],
      async handler({ principal, tenant, params, body }) {
        return decideRequest(ctx, tokenActor(principal, tenant), params.id, decision, body.comment);
      },
    });
  }

  api.route({
    method: 'post',
    path: '/tenants/{slug}/privacy/requests/{id}/cancel',
    summary: 'Withdraw a request that has not been carried out yet',
    tag,
    access: { scopes: ['lms', 'dpo'] },
    params: idParams,
    response: requestOut,
    errors: [409],
    async handler({ principal, tenant, params }) {
      return cancelRequest(ctx, tokenActor(principal, tenant), params.id);
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/privacy/requests/{id}/run',
    summary: 'Re-run a request left in `processing` by a failure (DSR-03)',
    tag,
    access: { scopes: ['dpo'] },
    params: idParams,
    response: requestOut,
    errors: [409],
    async handler({ principal, tenant, params }) {
      return processRequest(ctx, tenant.id, params.id, tokenActor(principal, tenant));
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/privacy/requests/{id}/lift',
    summary: 'Lift an Art. 18 restriction (DSR-03)',
    tag,
    access: { scopes: ['dpo'] },
    params: idParams,
    response: z.object({ lifted: z.number().int() }),
    errors: [409],
    async handler({ principal, tenant, params }) {
      return { lifted: await liftRestriction(ctx, tokenActor(principal, tenant), params.id) };
    },
  });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/privacy/requests/{id}/download-link',
    summary: 'A single-use, expiring link to the export archive, usable only with this same token (DSR-05)',
    tag,
    access: { scopes: ['dpo'] },
    params: idParams,
    status: 201,
    response: z.object({ url: z.string(), expiresAt: z.string() }),
    errors: [409, 410],
    async handler({ principal, tenant, params }) {
      const link = await createDownloadLink(ctx, tokenActor(principal, tenant), params.id);
      return { url: `/api/v1/tenants/${tenant.slug}/privacy/downloads/${link.token}`, expiresAt: link.expiresAt.toISOString() };
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/privacy/downloads/{token}',
    summary: 'Download the export archive (ZIP) once; every download is audited (DSR-05)',
    tag,
    access: { scopes: ['dpo'] },
    params: z.object({ slug, token: z.string().min(10).max(200) }),
    errors: [410],
    async handler({ principal, tenant, params, res }) {
      const { requestId, chunks } = await useDownloadLink(ctx, tokenActor(principal, tenant), params.token);
      await sendArchive(res, requestId, chunks);
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/privacy/register',
    summary: 'The processing record: every category of personal data, its purpose and retention rule (JSON, or German HTML with Accept: text/html)',
    tag,
    access: { scopes: ['admin', 'dpo'] },
    params: z.object({ slug }),
    response: z.object({ tenant: z.string(), categories: z.array(z.record(z.string(), z.unknown())) }),
    async handler({ tenant, req, res }) {
      const entries = processingRegister(ctx.privacy);
      if (req.accepts(['application/json', 'text/html']) === 'text/html') {
        const row = await ctx.db.selectFrom('tenants').select('name').where('id', '=', tenant.id).executeTakeFirstOrThrow();
        const locale = requestLocale(req);
        res.type('html').send(layout({ title: locale === 'de' ? 'Verzeichnis der Verarbeitungstätigkeiten' : 'Record of processing activities', locale, body: registerHtml(entries, row.name, locale) }));
        return;
      }
      return { tenant: tenant.slug, categories: entries };
    },
  });

  registerPages(app, ctx);
}
