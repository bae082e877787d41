import type { CreatedAt, Json, Timestamp } from '../db/types.js';

export interface IServTables {
  /** One IServ (OpenID provider) per tenant; the client secret only sealed. */
  iserv_configs: {
    tenant_id: string;
    base_url: string;
    /** Expected issuer when IServ's discovery document is not reachable (default: the base URL). */
    issuer: string | null;
    client_id: string;
    client_secret_sealed: string;
    scopes: string;
    created_at: CreatedAt;
    updated_at: Timestamp;
  };
  /** The tenant's mapping of IServ roles/groups to app roles; absent → defaults. */
  iserv_role_mappings: {
    tenant_id: string;
    rules: Json<unknown[]>;
    updated_at: Timestamp;
  };
  /**
   * Logins in flight (state → nonce, PKCE verifier), minutes long and consumed
   * once. No user id: nobody is known until IServ answers.
   */
  iserv_logins: {
    state_hash: string;
    tenant_id: string;
    /** SHA-256 of the random value in the browser's login cookie (binds the answer to the browser that asked). */
    browser_hash: string;
    /** nonce and code verifier, sealed. */
    secrets_sealed: string;
    created_at: CreatedAt;
    expires_at: Timestamp;
  };
}
