import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';

export const identityMigrations: Record<string, Migration> = {
  '0020_identity': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table users (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          source text not null,
          issuer text not null,
          subject text not null,
          display_name text not null,
          email text,
          created_at timestamptz not null default now(),
          last_seen_at timestamptz not null default now(),
          left_at timestamptz,
          deleted_at timestamptz,
          unique (tenant_id, issuer, subject)
        )`,
        `create table contexts (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          source text not null,
          issuer text not null,
          external_id text not null,
          title text not null default '',
          type text not null default 'course',
          created_at timestamptz not null default now(),
          deleted_at timestamptz,
          unique (tenant_id, issuer, external_id)
        )`,
        `create table memberships (
          tenant_id uuid not null references tenants(id) on delete cascade,
          context_id uuid not null references contexts(id) on delete cascade,
          user_id uuid not null references users(id) on delete cascade,
          roles text[] not null,
          source text not null,
          updated_at timestamptz not null default now(),
          primary key (context_id, user_id)
        )`,
        `create index memberships_user on memberships (user_id)`,
        `create table sessions (
          id_hash text primary key,
          tenant_id uuid not null references tenants(id) on delete cascade,
          user_id uuid not null references users(id) on delete cascade,
          context_id uuid references contexts(id) on delete cascade,
          roles text[] not null,
          data jsonb not null default '{}',
          created_at timestamptz not null default now(),
          last_seen_at timestamptz not null default now(),
          expires_at timestamptz not null
        )`,
        `create index sessions_user on sessions (user_id)`,
        `create index sessions_expiry on sessions (expires_at)`,
      );
    },
  },
};
