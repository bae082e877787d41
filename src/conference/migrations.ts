import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';

export const conferenceMigrations: Record<string, Migration> = {
  '0200_rooms': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table rooms (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          context_id uuid not null references contexts(id) on delete cascade,
          title text not null,
          category text not null check (category in ('lesson', 'staff', 'sensitive', 'peer')),
          backend text not null,
          purpose text,
          settings jsonb not null default '{}',
          state text not null default 'idle' check (state in ('idle', 'running', 'ended')),
          created_by uuid references users(id) on delete set null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          deleted_at timestamptz
        )`,
        `create index rooms_context on rooms (tenant_id, context_id)`,
      );
    },
  },
};
