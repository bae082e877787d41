import type { Kysely } from 'kysely';
import type { SecretBox } from '../crypto/secrets.js';
import type { DB } from '../db/schema.js';
import type { Backend, BackendConfig } from './schema.js';

export const secretPlace = (tenantId: string, name: string) => `backend:${tenantId}:${name}`;

/** A tenant's backend with its secret opened, for the conference module's calls. */
export async function loadBackend(db: Kysely<DB>, secrets: SecretBox, tenantId: string, name: string): Promise<Backend | null> {
  const row = await db.selectFrom('backends').selectAll().where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
  if (!row) return null;
  return {
    ...(row.config as unknown as BackendConfig),
    name: row.name,
    tenantId,
    secret: secrets.openText(row.secret_sealed, secretPlace(tenantId, row.name)),
  };
}

/** A backend's configuration without opening its secret (e.g. to widen a page's CSP for its origin). */
export async function backendConfig(db: Kysely<DB>, tenantId: string, name: string): Promise<BackendConfig | null> {
  const row = await db.selectFrom('backends').select('config').where('tenant_id', '=', tenantId).where('name', '=', name).executeTakeFirst();
  return row ? (row.config as unknown as BackendConfig) : null;
}

/** Backends as admins see them: never the secret. */
export async function listBackends(db: Kysely<DB>, tenantId: string) {
  const rows = await db.selectFrom('backends').select(['name', 'kind', 'config', 'created_at', 'updated_at']).where('tenant_id', '=', tenantId).orderBy('name').execute();
  return rows.map((r) => ({ name: r.name, ...(r.config as unknown as BackendConfig), secretSet: true, createdAt: r.created_at.toISOString(), updatedAt: r.updated_at.toISOString() }));
}
