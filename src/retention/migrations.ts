import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';

export const retentionMigrations: Record<string, Migration> = {
  '0300_retention': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table retention_runs (
          id uuid primary key default gen_random_uuid(),
          job text not null,
          rule_id text,
          category text,
          tenant_id uuid,
          cutoff timestamptz,
          deleted bigint not null default 0,
          details jsonb not null default '{}',
          started_at timestamptz not null,
          duration_ms real not null,
          outcome text not null,
          error text
        )`,
        `create index retention_runs_started on retention_runs (started_at desc)`,
        `create index retention_runs_tenant on retention_runs (tenant_id, started_at desc)`,
        `create table retention_confirmations (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          school_year text not null,
          school_year_end timestamptz not null,
          due_at timestamptz not null,
          created_at timestamptz not null default now(),
          answered_at timestamptz,
          answered_by text,
          answer text,
          note text,
          unique (tenant_id, school_year)
        )`,
        `create table log_access_requests (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          requested_by uuid not null,
          reason text not null,
          scope_type text not null check (scope_type in ('user', 'context')),
          scope_id uuid not null,
          period_from timestamptz not null,
          period_to timestamptz not null,
          created_at timestamptz not null default now(),
          approved_by uuid,
          approved_at timestamptz,
          expires_at timestamptz,
          check (approved_by is null or approved_by <> requested_by)
        )`,
        `create index log_access_requests_tenant on log_access_requests (tenant_id, created_at desc)`,
        `create index users_left_at on users (tenant_id, left_at) where left_at is not null`,
        `create index users_deleted_at on users (tenant_id, deleted_at) where deleted_at is not null`,
        `create index contexts_deleted_at on contexts (tenant_id, deleted_at) where deleted_at is not null`,
      );
    },
  },
};
