import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';

export const auditMigrations: Record<string, Migration> = {
  '0030_logs': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table activity_log (
          at timestamptz not null,
          tenant_id uuid not null,
          actor_id uuid,
          context_id uuid,
          action text not null,
          object_type text,
          object_id text,
          outcome text not null,
          rule_ids text[] not null default '{}',
          details jsonb not null default '{}'
        ) partition by range (at)`,
        `create index activity_log_tenant_at on activity_log (tenant_id, at)`,
        `create index activity_log_actor on activity_log (actor_id, at)`,
        `create table access_log (
          at timestamptz not null,
          request_id text not null,
          method text not null,
          route text not null,
          status integer not null,
          duration_ms real not null,
          ip_anon text,
          tenant_id uuid
        ) partition by range (at)`,
        `create index access_log_tenant_at on access_log (tenant_id, at)`,
        `create table admin_log (
          at timestamptz not null,
          tenant_id uuid,
          actor text not null,
          action text not null,
          object_type text not null,
          object_id text,
          rule_ids text[] not null default '{}',
          details jsonb not null default '{}'
        ) partition by range (at)`,
        `create index admin_log_tenant_at on admin_log (tenant_id, at)`,
      );
    },
  },
};
