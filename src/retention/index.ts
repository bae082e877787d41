import type { RetentionCategory } from './registry.js';
import { confirmationsCategory } from './confirmations.js';
import { leftSchoolCategory } from './left-school.js';
import { logAccessRequestsCategory } from './log-access.js';
import { purgatoryCategory } from './purgatory.js';

export { RetentionRegistry, type RetentionCategory, type RetentionOutcome, type RetentionRunOptions } from './registry.js';
export { retentionMigrations } from './migrations.js';
export type { RetentionTables } from './tables.js';
export { runCategories, type EngineOptions } from './engine.js';
export { withJobLock } from './lock.js';
export { listRuns, recordRun, safeErrorText, type RunRecord } from './protocol.js';
export { logCategories, logCategory, logCutoff, listPartitions, dropPartitionsBefore, purgeTenantRows, DAYS_AHEAD, LOG_CATEGORIES } from './logs.js';
export { sessionsCategory } from './sessions.js';
export { purgatoryCategory, restore, softDelete, restorableUntil } from './purgatory.js';
export { leftSchoolCategory, erasureDueAt } from './left-school.js';
export { confirmationsCategory, latestDueSchoolYear } from './confirmations.js';
export { retentionPrivacy } from './privacy.js';

/** This module's categories for the retention engine (the `retention` job); logs and sessions have their own jobs. */
export const ownRetentionCategories: RetentionCategory[] = [purgatoryCategory, leftSchoolCategory, confirmationsCategory, logAccessRequestsCategory];
