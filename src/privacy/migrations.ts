import type { Kysely, Migration } from 'kysely';
import { ddl } from '../db/ddl.js';

export const privacyMigrations: Record<string, Migration> = {
  '0510_privacy_requests': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table privacy_requests (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          user_id uuid not null,
          type text not null check (type in ('export', 'erasure', 'restriction', 'objection', 'rectification', 'other')),
          status text not null check (status in ('pending', 'awaiting_approval', 'approved', 'processing', 'download_ready', 'completed', 'rejected', 'cancelled', 'expired')),
          filed_via text not null check (filed_via in ('self', 'lms', 'dpo')),
          categories text[] not null default '{}',
          message_sealed text,
          dpo_comment text,
          result jsonb,
          error text,
          created_at timestamptz not null,
          updated_at timestamptz not null,
          decided_at timestamptz,
          ready_at timestamptz,
          finished_at timestamptz
        )`,
        `create index privacy_requests_user on privacy_requests (tenant_id, user_id)`,
        `create index privacy_requests_status on privacy_requests (tenant_id, status)`,
        // DSR-05: one open request per person and type, also when two arrive at once.
        `create unique index privacy_requests_one_open on privacy_requests (tenant_id, user_id, type) where status in ('pending', 'awaiting_approval', 'approved', 'processing')`,
        `create table privacy_export_chunks (
          request_id uuid not null references privacy_requests(id) on delete cascade,
          seq integer not null,
          data bytea not null,
          primary key (request_id, seq)
        )`,
        `create table privacy_download_links (
          token_hash text primary key,
          request_id uuid not null references privacy_requests(id) on delete cascade,
          tenant_id uuid not null references tenants(id) on delete cascade,
          issued_to text not null,
          created_at timestamptz not null,
          expires_at timestamptz not null,
          used_at timestamptz
        )`,
        `create index privacy_download_links_request on privacy_download_links (request_id)`,
      );
    },
  },
};
