import type { Generated, Json, Timestamp } from '../db/types.js';

export interface PrivacyTables {
  /**
   * A data-subject request (DSR-01 … DSR-05). Holds the pseudonymous user id and
   * the type; no names. Free text (rectification, question) is sealed and wiped
   * when the request is finished. Who acted is in the admin-action log.
   */
  privacy_requests: {
    id: Generated<string>;
    tenant_id: string;
    /** The data subject (users.id). Not a foreign key: the record outlives an erasure (accountability). */
    user_id: string;
    type: string;
    status: string;
    /** 'self' | 'lms' | 'dpo' */
    filed_via: string;
    /** Restriction: the categories to freeze ('*' = all). */
    categories: string[];
    /** Rectification / question: sealed (AES-256-GCM), null once finished. */
    message_sealed: string | null;
    /** Shown to the requester. */
    dpo_comment: string | null;
    /** Erasure/restriction outcome: per category counts and rule ids, never data. */
    result: Json<Record<string, unknown>> | null;
    /** Last processing error (a code, no data); the request stays `processing` until a re-run succeeds. */
    error: string | null;
    created_at: Timestamp;
    updated_at: Timestamp;
    decided_at: Timestamp | null;
    ready_at: Timestamp | null;
    finished_at: Timestamp | null;
  };
  /** An export archive, sealed chunk by chunk (AES-256-GCM); in the database so every instance can serve it. */
  privacy_export_chunks: {
    request_id: string;
    seq: number;
    data: Buffer;
  };
  /** DSR-05: single-use, expiring download links, bound to who asked for them. */
  privacy_download_links: {
    token_hash: string;
    request_id: string;
    tenant_id: string;
    /** `subject:<user id>` (the requester's session), `user:<id>` (a DPO's session) or `token:<id>` (a DPO token). */
    issued_to: string;
    created_at: Timestamp;
    expires_at: Timestamp;
    used_at: Timestamp | null;
  };
}
