import type { CreatedAt, Generated, Json, Timestamp } from '../db/types.js';

export interface RetentionTables {
  /** The protocol: one row per job run and category/tenant; counts and codes only, never personal data. */
  retention_runs: {
    id: Generated<string>;
    job: string;
    /** POLICY_CATALOGUE id, e.g. 'RET-01'. */
    rule_id: string | null;
    category: string | null;
    tenant_id: string | null;
    cutoff: Timestamp | null;
    deleted: number;
    details: Json<Record<string, number | string>>;
    started_at: Timestamp;
    duration_ms: number;
    /** 'ok' | 'error' | 'locked' */
    outcome: string;
    /** Error class and code only. */
    error: string | null;
  };
  /** RET-11: one per tenant and school year; stays open until an admin answers. */
  retention_confirmations: {
    id: Generated<string>;
    tenant_id: string;
    /** e.g. '2025/26' */
    school_year: string;
    school_year_end: Timestamp;
    due_at: Timestamp;
    created_at: CreatedAt;
    answered_at: Timestamp | null;
    /** 'token:<id>' */
    answered_by: string | null;
    /** 'done' | 'not-done' */
    answer: string | null;
    note: string | null;
  };
  /** ACC-03, RET-12: four-eyes access to the activity log. */
  log_access_requests: {
    id: Generated<string>;
    tenant_id: string;
    /** api_tokens.id of the requesting admin. */
    requested_by: string;
    reason: string;
    /** 'user' | 'context' */
    scope_type: string;
    scope_id: string;
    period_from: Timestamp;
    period_to: Timestamp;
    created_at: CreatedAt;
    approved_by: string | null;
    approved_at: Timestamp | null;
    expires_at: Timestamp | null;
  };
}
