import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';

export const consentMigrations: Record<string, Migration> = {
  '0210_consents': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table consents (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          user_id uuid not null references users(id) on delete cascade,
          scope text not null check (scope in ('video', 'peer')),
          given_at timestamptz not null,
          withdrawn_at timestamptz,
          source text not null,
          created_at timestamptz not null default now()
        )`,
        `create index consents_user on consents (tenant_id, user_id, scope)`,
        `create table objections (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          user_id uuid not null references users(id) on delete cascade,
          scope text not null default 'video',
          recorded_at timestamptz not null,
          lifted_at timestamptz,
          source text not null,
          created_at timestamptz not null default now()
        )`,
        `create index objections_user on objections (tenant_id, user_id)`,
      );
    },
  },
  '0230_usage_rules': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        // VC-13: the tenant's usage rules, versioned, and who accepted which version when.
        `create table usage_rules (
          tenant_id uuid not null references tenants(id) on delete cascade,
          version integer not null,
          text_de text not null,
          text_en text,
          created_at timestamptz not null default now(),
          primary key (tenant_id, version)
        )`,
        `create table usage_rule_acceptances (
          tenant_id uuid not null references tenants(id) on delete cascade,
          user_id uuid not null references users(id) on delete cascade,
          version integer not null,
          accepted_at timestamptz not null,
          primary key (tenant_id, user_id, version)
        )`,
      );
    },
  },
};
