import type { AuditTables } from '../audit/tables.js';
import type { IdentityTables } from '../identity/tables.js';
import type { TenantTables } from '../tenants/tables.js';

/** The whole database as Kysely sees it: each module contributes its own tables. */
export interface DB extends TenantTables, IdentityTables, AuditTables {}
