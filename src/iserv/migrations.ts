import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';

export const iservMigrations: Record<string, Migration> = {
  '0150_iserv': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table iserv_configs (
          tenant_id uuid primary key references tenants(id) on delete cascade,
          base_url text not null,
          issuer text,
          client_id text not null,
          client_secret_sealed text not null,
          scopes text not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now()
        )`,
        `create table iserv_role_mappings (
          tenant_id uuid primary key references tenants(id) on delete cascade,
          rules jsonb not null,
          updated_at timestamptz not null default now()
        )`,
        `create table iserv_logins (
          state_hash text primary key,
          tenant_id uuid not null references tenants(id) on delete cascade,
          browser_hash text not null,
          secrets_sealed text not null,
          created_at timestamptz not null default now(),
          expires_at timestamptz not null
        )`,
        `create index iserv_logins_expiry on iserv_logins (expires_at)`,
      );
    },
  },
};
