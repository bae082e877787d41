import type { Kysely, Migration } from 'kysely';
import { ddl } from '../src/db/ddl.js';

export const ltiMigrations: Record<string, Migration> = {
  '0100_lti': {
    async up(db: Kysely<unknown>) {
      await ddl(
        db,
        `create table lti_documents (
          id bigint generated always as identity primary key,
          collection text not null,
          doc jsonb not null,
          sealed text,
          created_at timestamptz not null,
          expires_at timestamptz
        )`,
        `create index lti_documents_doc on lti_documents using gin (doc jsonb_path_ops)`,
        `create index lti_documents_expiry on lti_documents (expires_at) where expires_at is not null`,
        // The uniqueness ltijs's mongoose schemas declare, plus single-use nonces and states.
        `create unique index lti_documents_state on lti_documents ((doc->>'state')) where collection = 'state'`,
        `create unique index lti_documents_nonce on lti_documents ((doc->>'nonce')) where collection = 'nonce'`,
        `create unique index lti_documents_platform on lti_documents ((doc->>'platformUrl'), (doc->>'clientId')) where collection = 'platform'`,
        `create unique index lti_documents_status on lti_documents ((doc->>'id')) where collection = 'platformStatus'`,
        `create unique index lti_documents_publickey on lti_documents ((doc->>'kid')) where collection = 'publickey'`,
        `create unique index lti_documents_privatekey on lti_documents ((doc->>'kid')) where collection = 'privatekey'`,
        `create table lti_platforms (
          id uuid primary key default gen_random_uuid(),
          tenant_id uuid not null references tenants(id) on delete cascade,
          issuer text not null,
          client_id text not null,
          deployment_ids text[] not null default '{}',
          name text not null,
          auth_endpoint text not null,
          token_endpoint text not null,
          jwks_url text not null,
          kid text not null,
          active boolean not null default false,
          registered_by text not null,
          created_at timestamptz not null default now(),
          updated_at timestamptz not null default now(),
          unique (issuer, client_id)
        )`,
        `create index lti_platforms_tenant on lti_platforms (tenant_id)`,
        `create table lti_registration_tokens (
          token_hash text primary key,
          tenant_id uuid not null references tenants(id) on delete cascade,
          created_at timestamptz not null default now(),
          expires_at timestamptz not null,
          used_at timestamptz
        )`,
        `create table lti_context_services (
          context_id uuid primary key references contexts(id) on delete cascade,
          tenant_id uuid not null references tenants(id) on delete cascade,
          platform_id uuid not null references lti_platforms(id) on delete cascade,
          memberships_url text not null,
          updated_at timestamptz not null
        )`,
        `create table lti_role_mappings (
          tenant_id uuid primary key references tenants(id) on delete cascade,
          mapping jsonb not null,
          updated_at timestamptz not null
        )`,
      );
    },
  },
};
