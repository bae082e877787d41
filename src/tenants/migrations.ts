import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';

export const tenantMigrations: Record<string, Migration> = {
  '0010_tenants': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table tenants (
          id uuid primary key default gen_random_uuid(),
          slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
          name text not null,
          settings jsonb not null default '{}',
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          deleted_at timestamptz
        )`,
        `create table api_tokens (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          label text not null,
          scopes text[] not null,
          token_hash text not null unique,
          created_at timestamptz not null default now(),
          created_by text not null,
          expires_at timestamptz,
          last_used_at timestamptz,
          revoked_at timestamptz
        )`,
        `create index api_tokens_tenant on api_tokens (tenant_id)`,
        `create table backends (
          tenant_id uuid not null references tenants(id) on delete cascade,
          name text not null check (name ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
          kind text not null check (kind in ('bbb', 'jitsi')),
          config jsonb not null,
          secret_sealed text not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          primary key (tenant_id, name)
        )`,
      );
    },
  },
};
