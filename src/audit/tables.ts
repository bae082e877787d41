import type { Json, Timestamp } from '../db/types.js';

/**
 * The three logs, each range-partitioned by day so retention drops whole days.
 * They hold pseudonymous ids only: no names, no e-mail, no bodies, no full IPs.
 */
export interface AuditTables {
  /** RET-01: launches, joins, policy decisions, reads of grids and LEBs. */
  activity_log: {
    at: Timestamp;
    tenant_id: string;
    actor_id: string | null;
    context_id: string | null;
    action: string;
    object_type: string | null;
    object_id: string | null;
    outcome: string;
    rule_ids: string[];
    details: Json<Record<string, unknown>>;
  };
  /** RET-02: HTTP requests, IP anonymised at write. */
  access_log: {
    at: Timestamp;
    request_id: string;
    method: string;
    route: string;
    status: number;
    duration_ms: number;
    ip_anon: string | null;
    tenant_id: string | null;
  };
  /** RET-03: every admin action: who (token id or 'operator'), what, on which object. */
  admin_log: {
    at: Timestamp;
    tenant_id: string | null;
    actor: string;
    action: string;
    object_type: string;
    object_id: string | null;
    rule_ids: string[];
    details: Json<Record<string, unknown>>;
  };
}

export type LogTable = keyof AuditTables;
export const LOG_TABLES: readonly LogTable[] = ['activity_log', 'access_log', 'admin_log'];
