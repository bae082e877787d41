import type { CreatedAt, Generated, Json, Timestamp } from '../src/db/types.js';

export interface LtiTables {
  /**
   * ltijs's collections (platform, platformStatus, publickey, privatekey, accesstoken,
   * idtoken, contexttoken, nonce, state) as documents: `doc` holds the plain document or,
   * for encrypted collections, only its index fields; `sealed` the AES-256-GCM payload.
   */
  lti_documents: {
    id: Generated<string>;
    collection: string;
    doc: Json<Record<string, unknown>>;
    sealed: string | null;
    created_at: Timestamp;
    /** ltijs's lifetimes (nonce 10 s, state 10 min, access token 1 h, id/context token 24 h); null = kept. */
    expires_at: Timestamp | null;
  };
  /** A platform registration, bound to exactly one tenant. */
  lti_platforms: {
    id: Generated<string>;
    tenant_id: string;
    issuer: string;
    client_id: string;
    deployment_ids: string[];
    name: string;
    auth_endpoint: string;
    token_endpoint: string;
    jwks_url: string;
    /** The ltijs platform id (`kid` of the tool key pair used with this platform). */
    kid: string;
    active: boolean;
    /** 'static' | 'dynamic' */
    registered_by: string;
    created_at: CreatedAt;
    updated_at: Timestamp;
  };
  /** One-time dynamic-registration tokens (stored hashed) binding a registration to its tenant. */
  lti_registration_tokens: {
    token_hash: string;
    tenant_id: string;
    created_at: CreatedAt;
    expires_at: Timestamp;
    used_at: Timestamp | null;
  };
  /** Where a context's roster can be fetched (NRPS), as the last launch told us. */
  lti_context_services: {
    context_id: string;
    tenant_id: string;
    platform_id: string;
    memberships_url: string;
    updated_at: Timestamp;
  };
  /** Per-tenant mapping of LTI role URIs to app roles (absent → defaults). */
  lti_role_mappings: {
    tenant_id: string;
    mapping: Json<Record<string, string[]>>;
    updated_at: Timestamp;
  };
}
