import type { CreatedAt, Generated, Json, Timestamp } from '../db/types.js';

export interface IdentityTables {
  /** A pseudonymous person: the platform's subject id per issuer, a display name, nothing more by default. */
  users: {
    id: Generated<string>;
    tenant_id: string;
    /** Where the identity was verified: 'lti' | 'iserv' | 'lms'. */
    source: string;
    issuer: string;
    subject: string;
    display_name: string;
    /** Only when the tenant needs it (settings.identity.storeEmail). */
    email: string | null;
    created_at: CreatedAt;
    last_seen_at: Timestamp;
    /** RET-07: the LMS reports the leaving date. */
    left_at: Timestamp | null;
    /** RET-06: soft deletion, restorable within the purgatory window. */
    deleted_at: Timestamp | null;
  };
  /** A course (LTI context) or an IServ group. */
  contexts: {
    id: Generated<string>;
    tenant_id: string;
    source: string;
    issuer: string;
    external_id: string;
    title: string;
    type: string;
    created_at: CreatedAt;
    deleted_at: Timestamp | null;
  };
  memberships: {
    tenant_id: string;
    context_id: string;
    user_id: string;
    roles: string[];
    /** Who told us: 'launch' | 'nrps' | 'iserv' | 'lms'. */
    source: string;
    updated_at: Timestamp;
  };
  /** The bridge's own browser sessions (SEC-03: session cookies only). */
  sessions: {
    id_hash: string;
    tenant_id: string;
    user_id: string;
    context_id: string | null;
    roles: string[];
    data: Json<Record<string, unknown>>;
    created_at: CreatedAt;
    last_seen_at: Timestamp;
    expires_at: Timestamp;
  };
}
