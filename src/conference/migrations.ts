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
  '0220_room_meetings': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        // VC-10/RET-04: the current meeting's id and its sealed secrets exist only while it runs.
        `alter table rooms add column meeting_id text`,
        `alter table rooms add column meeting_sealed text`,
        `alter table rooms add column started_at timestamptz`,
        `alter table rooms add column ended_at timestamptz`,
        `create unique index rooms_meeting on rooms (meeting_id) where meeting_id is not null`,
        `create index rooms_running on rooms (tenant_id) where state = 'running'`,
        // VC-15: share links die with the room's meeting (deleted at the end).
        `create table share_links (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          room_id uuid not null references rooms(id) on delete cascade,
          token_hash text not null unique,
          password_hash text not null,
          expires_at timestamptz not null,
          created_by uuid references users(id) on delete set null,
          created_at timestamptz not null default now()
        )`,
        `create index share_links_room on share_links (room_id)`,
        // RET-05: the protocol of deleted recordings (ids only).
        `create table recording_deletions (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          room_id uuid not null,
          backend text not null,
          record_id text not null,
          recorded_at timestamptz,
          deleted_at timestamptz not null
        )`,
        `create index recording_deletions_tenant on recording_deletions (tenant_id, deleted_at)`,
      );
    },
  },
  '0240_room_operations': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        // A start, end or fresh-room operation in flight: claimed in one short transaction, the
        // backend is called with no transaction open, the outcome committed in a second one.
        // `op_meeting_id` is the claim's token (the new meeting id, or the one being ended);
        // `op_until` is the lease after which a crashed operation's claim may be taken over.
        `alter table rooms add column op text check (op in ('start', 'end', 'fresh'))`,
        `alter table rooms add column op_meeting_id text`,
        `alter table rooms add column op_until timestamptz`,
      );
    },
  },
};
