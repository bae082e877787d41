import type { AuditTables } from '../audit/tables.js';
import type { ConferenceTables } from '../conference/tables.js';
import type { ConsentTables } from '../consent/tables.js';
import type { IdentityTables } from '../identity/tables.js';
import type { RestrictionTables } from '../privacy/restrictions.js';
import type { TenantTables } from '../tenants/tables.js';
import type { LtiTables } from '../../lti/tables.js';

/** The whole database as Kysely sees it: each module contributes its own tables. */
export interface DB extends TenantTables, IdentityTables, AuditTables, ConferenceTables, ConsentTables, RestrictionTables, LtiTables {}
