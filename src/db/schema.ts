import type { AuditTables } from '../audit/tables.js';
import type { CompetencyTables } from '../competency/tables.js';
import type { ConferenceTables } from '../conference/tables.js';
import type { ConsentTables } from '../consent/tables.js';
import type { IdentityTables } from '../identity/tables.js';
import type { IServTables } from '../iserv/tables.js';
import type { RestrictionTables } from '../privacy/restrictions.js';
import type { RetentionTables } from '../retention/tables.js';
import type { TenantTables } from '../tenants/tables.js';
import type { LtiTables } from '../../lti/tables.js';

/** The whole database as Kysely sees it: each module contributes its own tables. */
export interface DB
  extends TenantTables,
    IdentityTables,
    AuditTables,
    ConferenceTables,
    ConsentTables,
    RestrictionTables,
    IServTables,
    RetentionTables {}
export interface DB extends TenantTables, IdentityTables, AuditTables, ConferenceTables, ConsentTables, RestrictionTables, CompetencyTables {}
import type { PrivacyTables } from '../privacy/tables.js';
export interface DB extends TenantTables, IdentityTables, AuditTables, ConferenceTables, ConsentTables, RestrictionTables, PrivacyTables {}
export interface DB extends TenantTables, IdentityTables, AuditTables, ConferenceTables, ConsentTables, RestrictionTables, LtiTables {}
