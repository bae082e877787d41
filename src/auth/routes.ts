import { z } from 'zod';
import type { AppContext } from '../context.js';
import { hashToken, newToken } from '../crypto/secrets.js';
import type { Api } from '../http/api.js';
import { notFound } from '../shared/errors.js';
import { actorOf, SCOPES } from './principal.js';

const tokenOut = z.object({
  id: z.uuid(),
  label: z.string(),
  scopes: z.array(z.enum(SCOPES)),
  createdAt: z.string(),
  createdBy: z.string(),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});

const createBody = z
  .object({
    label: z.string().trim().min(1).max(120).describe('Whose token this is, e.g. "Schuladmin Frau Beispiel" (ACC-05: tokens are personal)'),
    scopes: z.array(z.enum(SCOPES)).min(1).refine((s) => new Set(s).size === s.length, { message: 'jeder Bereich nur einmal' }),
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();

type TokenRow = {
  id: string;
  label: string;
  scopes: string[];
  created_at: Date;
  created_by: string;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
};

const present = (r: TokenRow) => ({
  id: r.id,
  label: r.label,
  scopes: r.scopes as (typeof SCOPES)[number][],
  createdAt: r.created_at.toISOString(),
  createdBy: r.created_by,
  expiresAt: r.expires_at?.toISOString() ?? null,
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

export function registerTokenRoutes(api: Api, ctx: AppContext): void {
  const { db, audit, clock } = ctx;
  const slug = z.object({ slug: z.string() });

  api.route({
    method: 'post',
    path: '/tenants/{slug}/tokens',
    summary: 'Issue an API token; the token is shown once and stored only as a SHA-256 hash',
    tag: 'tokens',
    access: { operator: true, scopes: ['admin'] },
    params: slug,
    body: createBody,
    status: 201,
    response: tokenOut.extend({ token: z.string().describe('Shown only in this answer') }),
    async handler({ tenant, body, principal }) {
      const token = newToken();
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('api_tokens')
          .values({
            tenant_id: tenant.id,
            label: body.label,
            scopes: body.scopes,
            token_hash: hashToken(token),
            created_at: clock.now(),
            created_by: actorOf(principal),
            expires_at: body.expiresAt ?? null,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await audit.admin(trx, {
          tenantId: tenant.id,
          actor: actorOf(principal),
          action: 'token.create',
          objectType: 'api_token',
          objectId: row.id,
          ruleIds: ['ACC-05'],
          details: { scopes: body.scopes },
        });
        return { ...present(row), token };
      });
    },
  });

  api.route({
    method: 'get',
    path: '/tenants/{slug}/tokens',
    summary: 'List the tenant’s API tokens (never the tokens themselves)',
    tag: 'tokens',
    access: { operator: true, scopes: ['admin'] },
    params: slug,
    response: z.object({ items: z.array(tokenOut) }),
    async handler({ tenant }) {
      const rows = await db.selectFrom('api_tokens').selectAll().where('tenant_id', '=', tenant.id).orderBy('created_at').execute();
      return { items: rows.map(present) };
    },
  });

  api.route({
    method: 'delete',
    path: '/tenants/{slug}/tokens/{id}',
    summary: 'Revoke an API token at once',
    tag: 'tokens',
    access: { operator: true, scopes: ['admin'] },
    params: z.object({ slug: z.string(), id: z.uuid() }),
    status: 204,
    async handler({ tenant, params, principal }) {
      await db.transaction().execute(async (trx) => {
        const row = await trx
          .updateTable('api_tokens')
          .set({ revoked_at: clock.now() })
          .where('id', '=', params.id)
          .where('tenant_id', '=', tenant.id)
          .where('revoked_at', 'is', null)
          .returning('id')
          .executeTakeFirst();
        if (!row) throw notFound('Kein aktives Token mit dieser Kennung.');
        await audit.admin(trx, { tenantId: tenant.id, actor: actorOf(principal), action: 'token.revoke', objectType: 'api_token', objectId: params.id, ruleIds: ['ACC-05'] });
      });
    },
  });
}
