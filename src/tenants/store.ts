import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../db/schema.js';
import { tenantSettingsSchema, type TenantSettings } from './settings.js';
import type { TenantTables } from './tables.js';

export type TenantRow = Selectable<TenantTables['tenants']>;

export interface Tenant {
  id: string;
  slug: string;
  name: string;
  settings: TenantSettings;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
}

/** Stored settings are re-parsed so defaults added by later versions appear. */
export function toTenant(row: TenantRow): Tenant {
  return {
    id: row.id,
    slug: row.slug,
    name: row.name,
    settings: tenantSettingsSchema.parse(row.settings),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deletedAt: row.deleted_at,
  };
}

export async function findBySlug(db: Kysely<DB>, slug: string, includeDeleted = false): Promise<Tenant | null> {
  let query = db.selectFrom('tenants').selectAll().where('slug', '=', slug);
  if (!includeDeleted) query = query.where('deleted_at', 'is', null);
  const row = await query.executeTakeFirst();
  return row ? toTenant(row) : null;
}

export async function findById(db: Kysely<DB>, id: string): Promise<Tenant | null> {
  const row = await db.selectFrom('tenants').selectAll().where('id', '=', id).where('deleted_at', 'is', null).executeTakeFirst();
  return row ? toTenant(row) : null;
}

export async function list(db: Kysely<DB>, options: { includeDeleted?: boolean; onlyId?: string } = {}): Promise<Tenant[]> {
  let query = db.selectFrom('tenants').selectAll().orderBy('slug');
  if (!options.includeDeleted) query = query.where('deleted_at', 'is', null);
  if (options.onlyId) query = query.where('id', '=', options.onlyId);
  return (await query.execute()).map(toTenant);
}
