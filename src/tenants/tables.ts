import type { CreatedAt, Generated, Json, Timestamp } from '../db/types.js';
import type { TenantSettings } from './settings.js';

export interface TenantTables {
  tenants: {
    id: Generated<string>;
    slug: string;
    name: string;
    settings: Json<TenantSettings>;
    created_at: CreatedAt;
    updated_at: Timestamp;
    /** RET-06: soft-deleted tenants stay restorable until the purgatory window ends. */
    deleted_at: Timestamp | null;
  };
  api_tokens: {
    id: Generated<string>;
    tenant_id: string;
    label: string;
    scopes: string[];
    token_hash: string;
    created_at: CreatedAt;
    created_by: string;
    expires_at: Timestamp | null;
    last_used_at: Timestamp | null;
    revoked_at: Timestamp | null;
  };
  backends: {
    tenant_id: string;
    name: string;
    kind: 'bbb' | 'jitsi';
    /** Everything but the secret; the shape is the backend schema's. */
    config: Json<Record<string, unknown>>;
    secret_sealed: string;
    created_at: CreatedAt;
    updated_at: Timestamp;
  };
}
