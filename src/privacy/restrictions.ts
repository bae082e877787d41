import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';
import type { DB } from '../db/schema.js';
import type { Timestamp, Generated } from '../db/types.js';

export interface RestrictionTables {
  /** Art. 18 GDPR: a user's data in a category is frozen until the DPO lifts it. `category` '*' means all. */
  privacy_restrictions: {
    id: Generated<string>;
    tenant_id: string;
    user_id: string;
    category: string;
    since: Timestamp;
    lifted_at: Timestamp | null;
    request_id: string | null;
  };
}

export const restrictionMigrations: Record<string, Migration> = {
  '0500_privacy_restrictions': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table privacy_restrictions (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          user_id uuid not null references users(id) on delete cascade,
          category text not null,
          since timestamptz not null,
          lifted_at timestamptz,
          request_id uuid
        )`,
        `create index privacy_restrictions_user on privacy_restrictions (tenant_id, user_id) where lifted_at is null`,
      );
    },
  },
};

/**
 * True when the user's data in `category` (e.g. 'competency.grids') is restricted:
 * modules must then neither change it nor show it to anyone but the DPO.
 */
export async function isRestricted(db: Kysely<DB>, tenantId: string, userId: string, category: string): Promise<boolean> {
  const row = await db
    .selectFrom('privacy_restrictions')
    .select('id')
    .where('tenant_id', '=', tenantId)
    .where('user_id', '=', userId)
    .where('lifted_at', 'is', null)
    .where((eb) => eb.or([eb('category', '=', category), eb('category', '=', '*'), eb('category', '=', category.split('.')[0]!)]))
    .executeTakeFirst();
  return Boolean(row);
}
