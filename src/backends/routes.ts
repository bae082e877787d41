import { z } from 'zod';
import { actorOf } from '../auth/principal.js';
import type { AppContext } from '../context.js';
import type { Api } from '../http/api.js';
import { ProblemError, notFound } from '../shared/errors.js';
import { backendInput, type BackendConfig } from './schema.js';
import { listBackends, secretPlace } from './store.js';

const params = z.object({ slug: z.string(), name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'Kleinbuchstaben, Ziffern, Bindestriche' }) });

const backendOut = z.object({
  name: z.string(),
  kind: z.enum(['bbb', 'jitsi']),
  secretSet: z.literal(true).describe('The secret is stored encrypted and never returned'),
  createdAt: z.string(),
  updatedAt: z.string(),
}).catchall(z.unknown());

export function registerBackendRoutes(api: Api, ctx: AppContext): void {
  const { db, audit, clock, secrets } = ctx;

  api.route({
    method: 'put',
    path: '/tenants/{slug}/backends/{name}',
    summary: 'Create or replace a conference backend (BigBlueButton or Jitsi); the secret is stored encrypted',
    tag: 'backends',
    access: { operator: true, scopes: ['admin'] },
    params,
    body: backendInput,
    response: backendOut,
    async handler({ tenant, params: p, body, principal }) {
      const { secret, ...config } = body;
      await db.transaction().execute(async (trx) => {
        const existing = await trx.selectFrom('backends').select(['kind', 'secret_sealed']).where('tenant_id', '=', tenant.id).where('name', '=', p.name).forUpdate().executeTakeFirst();
        if (!secret && (!existing || existing.kind !== body.kind)) {
          throw new ProblemError(422, 'validation-failed', 'Für ein neues Konferenzsystem ist das Geheimnis (secret) nötig.', {
            extra: { errors: [{ in: 'body', field: 'secret', message: 'erforderlich', code: 'invalid_type' }] },
          });
        }
        const sealed = secret ? secrets.seal(secret, secretPlace(tenant.id, p.name)) : existing!.secret_sealed;
        const now = clock.now();
        await trx
          .insertInto('backends')
          .values({ tenant_id: tenant.id, name: p.name, kind: body.kind, config: JSON.stringify(config), secret_sealed: sealed, created_at: now, updated_at: now })
          .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ kind: body.kind, config: JSON.stringify(config), secret_sealed: sealed, updated_at: now }))
          .execute();
        await audit.admin(trx, {
          tenantId: tenant.id,
          actor: actorOf(principal),
          action: existing ? 'backend.replace' : 'backend.create',
          objectType: 'backend',
          objectId: p.name,
          details: { kind: body.kind, secretChanged: Boolean(secret) },
        });
      });
      return (await listBackends(db, tenant.id)).find((b) => b.name === p.name);
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/backends',
    summary: 'List conference backends (without secrets)',
    tag: 'backends',
    access: { operator: true, scopes: ['admin'] },
    params: z.object({ slug: z.string() }),
    response: z.object({ items: z.array(backendOut) }),
    async handler({ tenant }) {
      return { items: await listBackends(db, tenant.id) };
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/backends/{name}',
    summary: 'Read a conference backend (without its secret)',
    tag: 'backends',
    access: { operator: true, scopes: ['admin'] },
    params,
    response: backendOut,
    async handler({ tenant, params: p }) {
      const found = (await listBackends(db, tenant.id)).find((b) => b.name === p.name);
      if (!found) throw notFound(`Kein Konferenzsystem „${p.name}“.`);
      return found;
    },
  });

  api.route({
    method: 'delete',
    path: '/tenants/{slug}/backends/{name}',
    summary: 'Remove a conference backend and its secret',
    tag: 'backends',
    access: { operator: true, scopes: ['admin'] },
    params,
    status: 204,
    async handler({ tenant, params: p, principal }) {
      await db.transaction().execute(async (trx) => {
        const gone = await trx.deleteFrom('backends').where('tenant_id', '=', tenant.id).where('name', '=', p.name).returning('name').executeTakeFirst();
        if (!gone) throw notFound(`Kein Konferenzsystem „${p.name}“.`);
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'backend.delete', objectType: 'backend', objectId: p.name });
      });
    },
  });
}

export type { BackendConfig };
