/**
 * The one place where modules are wired into the service: their migrations,
 * privacy providers, retention categories, HTTP mounts and jobs. Add a module by
 * adding its lines here.
 */
import type { Migration } from 'kysely';
import type { Mount } from './app.js';
import { auditMigrations } from './audit/migrations.js';
import { auditPrivacy } from './audit/privacy.js';
import { conferenceMigrations } from './conference/migrations.js';
import { consentMigrations } from './consent/migrations.js';
import { consentPrivacy } from './consent/privacy.js';
import { identityMigrations } from './identity/migrations.js';
import { identityPrivacy } from './identity/privacy.js';
import type { PrivacyProvider } from './privacy/registry.js';
import { restrictionMigrations } from './privacy/restrictions.js';
import { privacyMigrations } from './privacy/migrations.js';
import { privacyPrivacy } from './privacy/privacy.js';
import { exportFileRetention, requestRecordRetention } from './privacy/retention.js';
import { registerPrivacyRoutes } from './privacy/routes.js';
import type { RetentionCategory } from './retention/registry.js';
import { tenantMigrations } from './tenants/migrations.js';

/** Forward-only; names sort globally, each module in its own number range (see src/db/migrations.ts). */
export const moduleMigrations: Record<string, Migration>[] = [
  tenantMigrations,
  identityMigrations,
  auditMigrations,
  conferenceMigrations,
  consentMigrations,
  restrictionMigrations,
  privacyMigrations,
];

/** Identity first: erasure runs in reverse order, so `users` goes last. */
export const privacyProviders: PrivacyProvider[] = [identityPrivacy, auditPrivacy, consentPrivacy, privacyPrivacy];

export const retentionCategories: RetentionCategory[] = [exportFileRetention, requestRecordRetention];

/** HTTP beyond the core REST API (LTI, IServ, pages). */
export const mounts: Mount[] = [registerPrivacyRoutes];
